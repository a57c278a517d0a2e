"""Running one job in a worker, in named steps: take the lease (the gate again),
`render` through the watermark stage, the gate again, `sign`, and `release` under
the final name, which `register`s the output in the registry.

Exactly once: a worker takes a time-limited lease on the job and renews it as
frames are made; only the lease holder may release an output, inside the same
transaction that issues the registry entry. A worker that dies loses its lease and
the job is taken over (see jobs.dispatch.reap); a duplicate message finds the job
held or done and returns."""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from audit.chain import atomic as audit_atomic
from audit.chain import record
from common.errors import UserError
from common.files import sha256_file
from consent.models import Consent
from generation.controls import Controls
from generation.pipeline import Cancelled, generate_video
from provenance import mark_residual
from provenance.fingerprint import stored_fingerprint
from provenance.manifest import read_manifest, sign_file
from provenance.registry_recovery import pooled_luma
from provenance.videomark import VideoWatermarker
from registry.models import RegistryEntry
from registry.outputs import describe_output, sign_poster
from registry.services import signer_config, trust_anchor, verify_path

from .gate import decide_job
from .models import Job

log = logging.getLogger(__name__)
OUTPUT_NAME = "output.mp4"
POSTER_NAME = "poster.png"
# Infrastructure faults worth a retry; anything else ends the job as failed.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerError, ConnectionError, TimeoutError)


class LeaseLost(Exception):
    """Another worker took the job over (this one stalled past its lease)."""


def _lease_until():
    return timezone.now() + timedelta(seconds=settings.VERITALK_JOB_LEASE_SECONDS)


class _Refused(Exception):
    """The last check, taken with the consent locked, refused the release."""

    def __init__(self, gate):
        super().__init__("release refused")
        self.gate = gate


def _deny(job: Job, gate, stage: str) -> Job:
    """A final refusal: the decision is kept, the uploaded photo and voice are not."""
    with audit_atomic():
        job.status = Job.Status.DENIED
        job.decision = gate.record_dict(stage)
        job.finished_at = timezone.now()
        job.lease_owner, job.lease_expires_at = "", None
        uploads = [f.name for f in (job.photo, job.audio) if f]
        job.photo.name = job.audio.name = ""
        job.save(update_fields=["status", "decision", "finished_at", "photo", "audio", "lease_owner",
                                "lease_expires_at"])
        record("policy.decision", target=job, data={**gate.record_dict(stage), "facts": gate.facts})
        record("job.denied", target=job, data={"stage": stage, "reasons": gate.decision.reasons})
    storage = job.photo.storage
    for name in uploads:  # after the commit: the refusal is recorded before the files go
        storage.delete(name)
    return job


def _allowed(job: Job, gate, stage: str) -> None:
    job.decision = gate.record_dict(stage)
    record("policy.decision", target=job, data={**gate.record_dict(stage), "facts": gate.facts})


def _start(job_id: str, owner: str) -> tuple[Job | None, RegistryEntry | None]:
    """Take the job's lease, or return (None, None) when it is done or held by a live worker."""
    with audit_atomic():
        job = Job.objects.select_for_update().select_related("creator", "subject").get(pk=job_id)
        if job.status not in (Job.Status.QUEUED, Job.Status.RUNNING):
            return None, None
        if job.status == Job.Status.RUNNING and job.lease_expires_at and job.lease_expires_at > timezone.now():
            return None, None  # a live worker holds it: this is a duplicate delivery
        gate = decide_job(job)
        if not gate.decision.allowed:
            _deny(job, gate, "before generation")
            return None, None
        previous = job.lease_owner
        job.status, job.consent = Job.Status.RUNNING, gate.consent
        _allowed(job, gate, "before generation")
        job.started_at = job.started_at or timezone.now()
        job.attempts += 1
        job.lease_owner, job.lease_expires_at = owner, _lease_until()
        job.progress_done = 0
        job.save(update_fields=["status", "consent", "decision", "started_at", "attempts", "lease_owner",
                                "lease_expires_at", "progress_done"])
        entry = RegistryEntry.reserve(job)
        if job.attempts == 1:
            record("job.started", target=job, data={"registry_id": entry.pk, "worker": owner})
        else:
            record("job.resumed", target=job, data={"registry_id": entry.pk, "worker": owner,
                                                    "previous_worker": previous, "attempt": job.attempts})
    return job, entry


class _Heartbeat:
    """Reports progress (the pipeline calls it every few frames) and renews the lease
    with the same write; raises LeaseLost once another worker holds the job."""

    def __init__(self, job: Job, owner: str):
        self.job, self.owner = job, owner

    def __call__(self, done: int, total: int) -> None:
        held = Job.objects.filter(pk=self.job.pk, lease_owner=self.owner, status=Job.Status.RUNNING).update(
            progress_done=done, progress_total=total, lease_expires_at=_lease_until())
        if not held:
            raise LeaseLost(f"job {self.job.pk} was taken over by another worker")


@dataclass(frozen=True)
class Attempt:
    """The files one attempt writes, under names no other worker's attempt uses; only
    `release` moves them to the job's final names."""
    folder: Path
    rendered: Path
    signed: Path
    poster: Path
    residual: Path

    @classmethod
    def of(cls, job: Job, owner: str) -> "Attempt":
        folder = Path(settings.MEDIA_ROOT) / "jobs" / str(job.pk)
        token = owner.rsplit(":", 1)[-1]
        return cls(folder, folder / f"output.{token}.partial.mp4", folder / f"output.{token}.signed.partial.mp4",
                   folder / f"poster.{token}.partial.png", folder / f"output.{token}.mark.partial.npz")

    @property
    def final(self) -> Path:
        return self.folder / OUTPUT_NAME

    def discard(self, *more: Path) -> None:
        _discard(self.rendered, self.signed, self.poster, self.residual, *more)

    def publish(self) -> None:
        """The signed video, its poster and the mark residual under their final names."""
        os.replace(self.signed, self.final)
        os.replace(self.poster, self.folder / POSTER_NAME)
        if self.residual.exists():
            os.replace(self.residual, mark_residual.residual_path(self.final))
        else:
            mark_residual.residual_path(self.final).unlink(missing_ok=True)


@dataclass(frozen=True)
class Signed:
    """A signed output before release: the video, its poster and what the registry keeps of them."""
    sha256: str
    manifest: dict
    manifest_id: str
    store: bytes
    poster_sha256: str
    fingerprint: list


def run_job(job_id: str, owner: str | None = None) -> Job:
    """One job, start to end: take the lease (gate), render, gate again, sign, release.
    Whatever happens, the job ends in a final, explained state or is left for a retry."""
    owner = owner or f"inline:{os.getpid()}:{time.monotonic_ns()}"
    job, entry = _start(job_id, owner)
    if job is None:
        return Job.objects.get(pk=job_id)
    attempt = Attempt.of(job, owner)
    try:
        result, marker = render(job, entry, attempt, _Heartbeat(job, owner))
        gate = decide_job(job)
        if not gate.decision.allowed:  # consent changed while we rendered: nothing is released
            attempt.discard()
            entry.void()
            return _deny(job, gate, "before release")
        _allowed(job, gate, "before release")
        signed = sign(job, entry, result, marker, gate, attempt)
        return release(job, entry, owner, result, marker, signed, attempt)
    except _Refused as refused:
        attempt.discard()
        entry.void()
        return _deny(job, refused.gate, "at release")
    except LeaseLost:
        attempt.discard()
        if _cancelled(job):
            return _stop(job, entry, owner)
        log.warning("job %s: lease lost, leaving it to its new owner", job.pk)
        return Job.objects.get(pk=job.pk)
    except TRANSIENT_ERRORS:
        attempt.discard(*_unreleased(job, attempt.final))
        raise  # the task retries; the lease lapses meanwhile
    except Cancelled:
        attempt.discard()
        if _cancelled(job):
            return _stop(job, entry, owner)
        entry.void()
        return _deny(job, decide_job(job), "during generation")
    except Exception as exc:  # noqa: BLE001 - every other failure ends the job in a final, explained state
        attempt.discard(*_unreleased(job, attempt.final))
        if _cancelled(job):  # e.g. the inputs went while it stopped: the cancellation is the outcome
            return _stop(job, entry, owner)
        log.exception("job %s failed", job.pk)
        entry.void()
        return _fail(job, exc)


def render(job: Job, entry: RegistryEntry, attempt: Attempt, heartbeat: _Heartbeat):
    """Frames through the watermark stage (the registry id is the payload) into the
    attempt's partial MP4; the gate is asked again every few frames (Cancelled)."""
    marker = VideoWatermarker(entry.pk)
    controls = Controls.from_mapping(job.controls)
    options = ({"weights": settings.VERITALK_DIFFUSION_WEIGHTS, "face_model": settings.VERITALK_DIFFUSION_FACE_MODEL,
                "wav2vec": settings.VERITALK_DIFFUSION_WAV2VEC,
                "vocal_separator": settings.VERITALK_DIFFUSION_VOCAL_SEPARATOR}
               if controls.backend == "diffusion" else None)
    result = generate_video(job.photo.path, job.audio.path, attempt.rendered, marker=marker, controls=controls,
                            backend_options=options, progress=heartbeat,
                            should_stop=lambda: _cancelled(job) or not decide_job(job).decision.allowed,
                            max_audio_seconds=settings.VERITALK_MAX_AUDIO_SECONDS)
    return result, marker


def sign(job: Job, entry: RegistryEntry, result, marker, gate, attempt: Attempt,
         manifest: dict | None = None) -> Signed:
    """The C2PA manifest (inputs by hash, consent, decision, soft binding; a live session
    passes its own) signed into the video and into its watermarked poster; the video's
    fingerprint for content look-ups."""
    manifest = manifest or describe_output(job, entry, result, marker, gate.consent, gate.decision)
    store = sign_file(attempt.rendered, attempt.signed, manifest, signer_config())
    attempt.rendered.unlink(missing_ok=True)
    reading = read_manifest(attempt.signed, trust_anchor_pem=trust_anchor())
    poster_sha = sign_poster(result.poster, attempt.poster, job, entry, result, marker, gate.consent, gate.decision)
    keep_mark_residual(attempt, marker.host_mean() if marker.frames else getattr(result, "host_mean", None))
    return Signed(sha256=sha256_file(attempt.signed), manifest=reading.manifest, manifest_id=reading.label or "",
                   store=store, poster_sha256=poster_sha, fingerprint=stored_fingerprint(attempt.signed))


def keep_mark_residual(attempt: Attempt, host) -> None:
    """The mark as our encode left it (the signed file's pooled luma minus the unmarked
    frames' the marker pooled: `host`), for the registry path's informed test; nothing
    when no marker pooled the frames."""
    pooled = pooled_luma(attempt.signed) if host is not None else None
    residual = mark_residual.residual(pooled.mean, host) if pooled is not None else None
    if residual is None:
        attempt.residual.unlink(missing_ok=True)
    else:
        mark_residual.save(attempt.residual, residual)


def register(entry: RegistryEntry, job: Job, marker, signed: Signed) -> None:
    """What identifies the output, set on its registry entry (saved when release issues it)."""
    entry.identify(watermark_payload=marker.payload, watermark_codec=marker.codec, output_sha256=signed.sha256,
                   manifest=signed.manifest, manifest_id=signed.manifest_id, manifest_store=signed.store,
                   fingerprint=signed.fingerprint, poster=f"jobs/{job.pk}/{POSTER_NAME}",
                   poster_sha256=signed.poster_sha256)


def release(job: Job, entry: RegistryEntry, owner: str, result, marker, signed: Signed, attempt: Attempt) -> Job:
    """With the lease checked and the consent row locked, a last gate check; then the
    complete, signed file appears under its final name at once, the registry entry is
    issued and the job succeeds, in one transaction, by the lease holder only."""
    register(entry, job, marker, signed)
    # The self-check, against the entry as it will be issued: here, not inside the release,
    # whose transaction holds the audit log's lock (every recording transaction, each
    # submission's included, waits for it) and of which this check was most of the time.
    verification = verify_path(attempt.signed, releasing=entry)
    with audit_atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.status != Job.Status.RUNNING or current.lease_owner != owner:
            raise LeaseLost(f"job {job.pk} was taken over before release")
        # With the consent row locked, a revocation commits either before this check
        # (nothing is released) or after the release (and marks the entry revoked).
        Consent.objects.select_for_update(no_key=True).filter(pk=job.consent_id).first()
        last = decide_job(job)
        if not last.decision.allowed:
            raise _Refused(last)
        attempt.publish()
        _discard(*attempt.folder.glob("*.partial.mp4"), *attempt.folder.glob("*.partial.png"),
                 *attempt.folder.glob("*.partial.npz"))  # dead workers' tries
        entry.issue()
        record("registry.issued", target=entry, data={"job": str(job.pk), "sha256": signed.sha256,
                                                      "watermark": marker.payload})
        job.output.name = f"jobs/{job.pk}/{OUTPUT_NAME}"
        job.output_sha256, job.engine = signed.sha256, f"{result.engine} {result.engine_version}"
        job.verification = verification
        job.status, job.finished_at = Job.Status.SUCCEEDED, timezone.now()
        job.progress_done = job.progress_total = result.frames
        job.lease_owner, job.lease_expires_at = "", None
        job.save()
        record("job.succeeded", target=job, data={"frames": result.frames, "seconds": round(result.seconds, 2),
                                                  "verdict": job.verification["verdict"], "attempt": job.attempts})
    return job


def _cancelled(job: Job) -> bool:
    """The creator cancelled the job while this worker ran it (jobs.services.cancel_job)."""
    return Job.objects.filter(pk=job.pk, status=Job.Status.CANCELLED).exists()


def _stop(job: Job, entry: RegistryEntry, owner: str) -> Job:
    """Honour a cancellation: what this attempt wrote is already discarded; the registry
    entry is voided and the uploaded inputs deleted. Nothing was released."""
    uploads = [f.name for f in (job.photo, job.audio) if f]
    with audit_atomic():
        entry.void()
        Job.objects.filter(pk=job.pk).update(photo="", audio="", lease_owner="", lease_expires_at=None)
        record("job.stopped", target=job, data={"reason": "cancelled by its creator", "worker": owner,
                                                "frames_done": Job.objects.get(pk=job.pk).progress_done})
    storage = job.photo.storage
    for name in uploads:
        storage.delete(name)
    return Job.objects.get(pk=job.pk)


def _fail(job: Job, exc: Exception) -> Job:
    error = exc.as_dict() if isinstance(exc, UserError) else {"code": "internal_error", "message": str(exc)}
    job.status, job.error, job.finished_at = Job.Status.FAILED, error, timezone.now()
    job.lease_owner, job.lease_expires_at = "", None
    job.save(update_fields=["status", "error", "finished_at", "lease_owner", "lease_expires_at"])
    record("job.failed", target=job, data=error)
    return job


def _unreleased(job: Job, final: Path) -> list[Path]:
    """The final file, if it was renamed into place but its release did not commit."""
    try:
        committed = Job.objects.filter(pk=job.pk, status=Job.Status.SUCCEEDED).exists()
    except TRANSIENT_ERRORS:
        return []  # cannot tell now: check_storage reports it later
    return [] if committed else [final]


def _discard(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
