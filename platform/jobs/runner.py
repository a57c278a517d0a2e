"""Running one job in a worker: gate again, generate through the watermark
stage, sign, release under the final name, record in the registry."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.chain import record
from generation.errors import InputError
from generation.pipeline import Cancelled, generate_video
from generation.controls import Controls
from provenance.manifest import build_manifest, read_manifest, sign_file
from provenance.signing import load_signing_material
from provenance.verify import sha256_file
from provenance.videomark import CODEC_NAME, VideoWatermarker
from consent.models import Consent
from registry.models import RegistryEntry
from registry.services import trust_anchor, verify_path

from .gate import decide_job
from .models import Job

log = logging.getLogger(__name__)
OUTPUT_NAME = "output.mp4"


def _job_dir(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / "jobs" / str(job.pk)


class _Refused(Exception):
    """The last check, taken with the consent locked, refused the release."""

    def __init__(self, gate):
        super().__init__("release refused")
        self.gate = gate


def _deny(job: Job, gate, stage: str) -> Job:
    """A final refusal: the decision is kept, the uploaded photo and voice are not."""
    for f in (job.photo, job.audio):
        if f:
            f.storage.delete(f.name)
    job.photo.name = job.audio.name = ""
    job.status = Job.Status.DENIED
    job.decision = gate.record_dict(stage)
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "decision", "finished_at", "photo", "audio"])
    record("policy.decision", target=job, data={**gate.record_dict(stage), "facts": gate.facts})
    record("job.denied", target=job, data={"stage": stage, "reasons": gate.decision.reasons})
    return job


def _allowed(job: Job, gate, stage: str) -> None:
    job.decision = gate.record_dict(stage)
    record("policy.decision", target=job, data={**gate.record_dict(stage), "facts": gate.facts})


def _start(job_id: str) -> tuple[Job | None, RegistryEntry | None]:
    with transaction.atomic():
        job = Job.objects.select_for_update().select_related("creator", "subject").get(pk=job_id)
        if job.status not in (Job.Status.QUEUED, Job.Status.RUNNING):
            return None, None  # already final: a redelivered message does nothing
        gate = decide_job(job)
        if not gate.decision.allowed:
            _deny(job, gate, "before generation")
            return None, None
        job.status, job.started_at, job.consent = Job.Status.RUNNING, timezone.now(), gate.consent
        _allowed(job, gate, "before generation")
        job.save(update_fields=["status", "started_at", "consent", "decision"])
        entry, _ = RegistryEntry.objects.get_or_create(job=job)
        if entry.state != RegistryEntry.State.RESERVED:
            entry.state = RegistryEntry.State.RESERVED
            entry.save(update_fields=["state"])
        record("job.started", target=job, data={"registry_id": entry.pk})
    return job, entry


def run_job(job_id: str) -> Job:
    job, entry = _start(job_id)
    if job is None:
        return Job.objects.get(pk=job_id)
    folder = _job_dir(job)
    rendered, signed = folder / "output.partial.mp4", folder / "output.signed.partial.mp4"
    final = folder / OUTPUT_NAME

    def progress(done: int, total: int) -> None:
        Job.objects.filter(pk=job.pk).update(progress_done=done, progress_total=total)

    def should_stop() -> bool:
        return not decide_job(job).decision.allowed

    try:
        marker = VideoWatermarker(entry.pk)
        result = generate_video(job.photo.path, job.audio.path, rendered, marker=marker,
                                controls=Controls.from_mapping(job.controls), progress=progress,
                                should_stop=should_stop, max_audio_seconds=settings.VERITALK_MAX_AUDIO_SECONDS)
        gate = decide_job(job)
        decision, consent = gate.decision, gate.consent
        if not decision.allowed:  # consent changed while we rendered: nothing is released
            _discard(entry, rendered, signed)
            return _deny(job, gate, "before release")
        _allowed(job, gate, "before release")
        manifest = build_manifest(
            title=f"Veritalk video {job.pk}", engine=result.engine, engine_version=result.engine_version,
            registry_id=entry.pk, watermark_payload=marker.payload, watermark_codec=CODEC_NAME, job_id=str(job.pk),
            consent_id=consent.pk if consent else None, policy_version=decision.policy_version,
            decision_sha256=decision.sha256, duration_ms=int(result.frames * 1000 / result.fps))
        sign_file(rendered, signed, manifest, load_signing_material(settings.VERITALK_SIGNING_DIR))
        rendered.unlink(missing_ok=True)
        sha = sha256_file(signed)
        stored_manifest = read_manifest(signed, trust_anchor_pem=trust_anchor()).manifest
        with transaction.atomic():
            # With the consent row locked, a revocation commits either before this check
            # (nothing is released) or after the release (and marks the entry revoked).
            Consent.objects.select_for_update().filter(pk=job.consent_id).first()
            last = decide_job(job)
            if not last.decision.allowed:
                raise _Refused(last)
            os.replace(signed, final)  # the complete, signed file appears under its final name at once
            entry.state, entry.issued_at = RegistryEntry.State.ISSUED, timezone.now()
            entry.watermark_payload, entry.watermark_codec = marker.payload, CODEC_NAME
            entry.output_sha256, entry.manifest = sha, stored_manifest
            entry.save(update_fields=["state", "issued_at", "watermark_payload", "watermark_codec",
                                      "output_sha256", "manifest"])
            job.output.name = f"jobs/{job.pk}/{OUTPUT_NAME}"
            job.output_sha256, job.engine = sha, f"{result.engine} {result.engine_version}"
            job.verification = verify_path(final)  # sees the entry above: same transaction
            job.status, job.finished_at = Job.Status.SUCCEEDED, timezone.now()
            job.progress_done = job.progress_total = result.frames
            job.save()
            record("registry.issued", target=entry, data={"job": str(job.pk), "sha256": sha,
                                                          "watermark": marker.payload})
            record("job.succeeded", target=job, data={"frames": result.frames, "seconds": round(result.seconds, 2),
                                                      "verdict": job.verification["verdict"]})
        return job
    except _Refused as refused:
        _discard(entry, rendered, signed, final)
        return _deny(job, refused.gate, "at release")
    except Cancelled:
        _discard(entry, rendered, signed)
        return _deny(job, decide_job(job), "during generation")
    except Exception as exc:  # noqa: BLE001 - every failure ends the job in a final, explained state
        log.exception("job %s failed", job.pk)
        _discard(entry, rendered, signed, final)
        error = exc.as_dict() if isinstance(exc, InputError) else {"code": "internal_error", "message": str(exc)}
        job.status, job.error, job.finished_at = Job.Status.FAILED, error, timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        record("job.failed", target=job, data=error)
        return job


def _discard(entry: RegistryEntry, *paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
    entry.state = RegistryEntry.State.VOID
    entry.save(update_fields=["state"])
