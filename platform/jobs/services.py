"""Submitting a job: validate the inputs, ask the gate, store and dispatch; and
cancelling queued jobs when their consent is revoked."""
from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from audit.chain import atomic as audit_atomic
from audit.chain import record
from consent.signals import consent_revoked

from .dispatch import dispatch
from .gate import decide_job, decide_request
from .inputs import validate_inputs
from .models import Job


def submit_job(*, creator, subject, photo, audio, controls=None, purpose: str = "", channel: str = "") -> Job:
    """Return the job: queued, or denied with the decision and no stored files.
    Bad uploads raise generation.errors.InputError before anything is written."""
    inputs = validate_inputs(photo, audio, controls)
    gate = decide_request(creator=creator, subject=subject, face_count=1, purpose=purpose, channel=channel,
                          face_embedding=inputs.face_embedding, photo_bytes=len(inputs.photo),
                          audio_bytes=len(inputs.audio), audio_seconds=inputs.audio_seconds)
    decision = gate.decision
    job = Job(creator=creator, subject=subject, consent=gate.consent if decision.allowed else None, purpose=purpose,
              channel=channel, controls=inputs.controls.as_dict(), photo_sha256=inputs.photo_sha256,
              audio_sha256=inputs.audio_sha256, audio_seconds=inputs.audio_seconds, face_count=1,
              face_box=inputs.face_box, face_embedding=inputs.face_embedding, photo_bytes=len(inputs.photo),
              audio_bytes=len(inputs.audio), decision=gate.record_dict("submission"),
              status=Job.Status.QUEUED if decision.allowed else Job.Status.DENIED)
    try:
        with audit_atomic():
            if decision.allowed:
                # Inputs are stored only for allowed jobs, under fixed names in the job's folder.
                job.photo.save(f"photo.{inputs.photo_ext}", ContentFile(inputs.photo), save=False)
                job.audio.save(f"audio.{inputs.audio_ext}", ContentFile(inputs.audio), save=False)
            job.save()
            record("job.created", actor=creator, target=job,
                   data={"subject": subject.pk, "controls": job.controls, "purpose": purpose, "channel": channel,
                         "photo_sha256": inputs.photo_sha256, "audio_sha256": inputs.audio_sha256})
            record("policy.decision", actor=creator, target=job,
                   data={**gate.record_dict("submission"), "facts": gate.facts})
            if decision.allowed:
                transaction.on_commit(lambda: dispatch(job))
    except BaseException:
        for f in (job.photo, job.audio):  # the rows rolled back: remove the files written with them
            if f:
                f.storage.delete(f.name)
        raise
    return job


def cancel_queued_jobs(consent, *, actor=None) -> list[Job]:
    """Cancel every queued job accepted under `consent` (its subject revoked it) and
    delete their stored inputs once the cancellation is committed. Runs inside the
    revocation's transaction; the worker skips a job that is no longer queued."""
    cancelled = []
    for job in Job.objects.select_for_update().filter(consent=consent, status=Job.Status.QUEUED):
        gate = decide_job(job)
        files = [f.name for f in (job.photo, job.audio) if f]
        storage = job.photo.storage
        job.status, job.finished_at = Job.Status.CANCELLED, timezone.now()
        job.decision = gate.record_dict("revocation")
        job.error = {"code": "consent_revoked", "field": None,
                     "message": f"Consent #{consent.pk} was revoked by the subject; the job was cancelled "
                                "before generation and its uploaded files were deleted."}
        job.photo.name = job.audio.name = ""
        job.save(update_fields=["status", "finished_at", "decision", "error", "photo", "audio"])
        record("policy.decision", actor=actor, target=job, data={**gate.record_dict("revocation"),
                                                                 "facts": gate.facts})
        record("job.cancelled", actor=actor, target=job, data={"reason": "consent revoked", "consent": consent.pk,
                                                               "reasons": gate.decision.reasons})
        transaction.on_commit(lambda names=files, st=storage: [st.delete(n) for n in names])
        cancelled.append(job)
    return cancelled


@receiver(consent_revoked, dispatch_uid="jobs.cancel_queued_jobs")
def _cancel_on_revocation(sender, *, consent, actor=None, **kwargs):
    cancel_queued_jobs(consent, actor=actor)

