"""Ending a live session without releasing anything: a refusal (`stop_for`: revoked or
expired consent, a take-down, the policy) or a failure (`fail`) voids the registry
reservation, deletes the photo and the session's unreleased files, and is audited.
Below both live.services and live.recording, which stops a session its last check refuses."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import timezone

from audit.chain import atomic as audit_atomic
from audit.chain import record
from jobs.gate import decide_job
from jobs.models import Job
from registry.models import RegistryEntry

from .models import LiveSession


def job_dir(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / "jobs" / str(job.pk)


def refusal_code(gate) -> str:
    consent = (gate.facts or {}).get("consent") or {}
    if "consent-active" in gate.decision.rules:
        if consent.get("revoked_at"):
            return "consent_revoked"
        if consent.get("expires_at") and consent["expires_at"] <= gate.facts["now"]:
            return "consent_expired"
    return "policy"


def discard(*paths) -> None:
    for p in paths:
        if p:
            Path(p).unlink(missing_ok=True)


def _partials(job: Job) -> list[Path]:
    """A session's unreleased files (its recording as written, signed or not), also those
    of a process that died mid-session."""
    folder = job_dir(job)
    return [*folder.glob("live.*.partial.mp4"), *folder.glob("*.live.*partial*")] if folder.is_dir() else []


def _void_entry(job: Job) -> None:
    RegistryEntry.objects.filter(job=job).exclude(state=RegistryEntry.State.ISSUED).update(
        state=RegistryEntry.State.VOID)


def _delete_photo(job: Job) -> list[str]:
    names = [f.name for f in (job.photo, job.audio) if f]
    job.photo.name = job.audio.name = ""
    return names


def stop_for(session: LiveSession, gate, stage: str, *, reason: str | None = None, message: str = "",
             recording: str | None = None) -> LiveSession:
    """A refusal ended the session (revoked, expired, taken down, policy): nothing is
    released, the reservation is voided, the photo deleted, the decision kept."""
    job = session.job
    gate = gate or decide_job(job)
    reason = reason or refusal_code(gate)
    message = message or " ".join(gate.decision.reasons)
    with audit_atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        names = _delete_photo(job)
        job.status, job.finished_at = Job.Status.DENIED, timezone.now()
        job.decision = gate.record_dict(stage)
        job.error = {"code": reason, "field": None, "message": message}
        job.save(update_fields=["status", "finished_at", "decision", "error", "photo", "audio"])
        _void_entry(job)
        LiveSession.objects.filter(pk=session.pk).update(status=LiveSession.Status.STOPPED, end_reason=reason,
                                                         end_message=message, ended_at=timezone.now())
        record("policy.decision", target=job, data={**gate.record_dict(stage), "facts": gate.facts})
        record("job.denied", target=job, data={"stage": stage, "reasons": gate.decision.reasons})
        record("live.stopped", target=session, data={"reason": reason, "message": message, "stage": stage})
    return _cleaned_up(session, job, names, recording)


def _cleaned_up(session: LiveSession, job: Job, names, recording: str | None) -> LiveSession:
    """After the ending is committed: the photo's files, the recording and its partial
    outputs deleted; the session as it now is."""
    storage = job.photo.storage
    for name in names:
        storage.delete(name)
    discard(recording, *_partials(job))
    session.refresh_from_db()
    return session


def fail(session: LiveSession, reason: str, message: str, recording: str | None = None) -> LiveSession:
    job = session.job
    with audit_atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        names = _delete_photo(job)
        job.status, job.finished_at = Job.Status.FAILED, timezone.now()
        job.error = {"code": reason, "field": None, "message": message}
        job.save(update_fields=["status", "finished_at", "error", "photo", "audio"])
        _void_entry(job)
        LiveSession.objects.filter(pk=session.pk).update(status=LiveSession.Status.FAILED, end_reason=reason,
                                                         end_message=message, ended_at=timezone.now())
        record("job.failed", target=job, data=job.error)
        record("live.failed", target=session, data={"reason": reason, "message": message})
    return _cleaned_up(session, job, names, recording)
