"""Releasing a live session's recording: signed with a C2PA manifest that names the
session, registered under the registry id its frames were watermarked with, and
verified, in the same steps and the same transaction as a job's output
(jobs.runner): nothing is released if the last check, taken with the consent row
locked, refuses."""
from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from audit.chain import atomic as audit_atomic
from audit.chain import record
from consent.models import Consent
from jobs.gate import decide_job
from jobs.models import Job
from jobs.runner import OUTPUT_NAME, Attempt, register, sign
from provenance.manifest import PROVENANCE_LABEL, Ingredient, build_manifest
from provenance.videomark import CODEC_NAME, VideoWatermarker
from registry.models import RegistryEntry
from registry.services import verify_path

from .ending import stop_for
from .models import LiveSession


def live_manifest(session: LiveSession, job: Job, entry: RegistryEntry, result, consent, decision,
                  voice_sha256: str) -> dict:
    """The manifest of a live recording: the photo and the voice by hash, and the
    session named in the creating action and in Veritalk's provenance assertion."""
    ingredients = [Ingredient(title=f"portrait{Path(job.photo.name).suffix.lower()}", format="image/jpeg"
                              if Path(job.photo.name).suffix.lower() in (".jpg", ".jpeg") else "image/png",
                              sha256=job.photo_sha256, role="photo")]
    if voice_sha256:
        ingredients.append(Ingredient(title="live voice (PCM)", format="audio/L16", sha256=voice_sha256,
                                      role="audio"))
    manifest = build_manifest(
        title=f"Veritalk live session {session.pk}", engine=result.engine, engine_version=result.engine_version,
        backend=f"{result.backend} {result.backend_version}", registry_id=entry.pk,
        watermark_payload=VideoWatermarker(entry.pk).payload, watermark_codec=CODEC_NAME, job_id=str(job.pk),
        consent_id=consent.pk if consent else None, policy_version=decision.policy_version,
        decision_sha256=decision.sha256, duration_ms=int(result.frames * 1000 / result.fps),
        ingredients=ingredients)
    for assertion in manifest["assertions"]:
        if assertion["label"] == PROVENANCE_LABEL:
            assertion["data"]["live_session"] = str(session.pk)
        elif assertion["label"] == "c2pa.actions":
            created = assertion["data"]["actions"][0]
            created["parameters"]["live_session"] = str(session.pk)
            created["parameters"]["description"] = "recorded from a live session, as streamed"
    return manifest


def release(session: LiveSession, result, *, reason: str, voice_sha256: str) -> LiveSession:
    """The recording through the job runner's own steps (sign, register, self-check),
    then the release under the locked consent row, as a job's; the session named in
    the manifest and the audit rows."""
    job = Job.objects.get(pk=session.job_id)
    entry = RegistryEntry.objects.get(job=job)
    folder = Path(job.photo.path).parent
    attempt = Attempt(folder, Path(result.path), folder / "output.live.signed.partial.mp4",
                      folder / "poster.live.partial.png", folder / "output.live.mark.partial.npz")
    gate = decide_job(job)
    if not gate.decision.allowed:
        return stop_for(session, gate, "before release", recording=str(attempt.rendered))
    try:
        marker = VideoWatermarker(entry.pk)
        manifest = live_manifest(session, job, entry, result, gate.consent, gate.decision, voice_sha256)
        signed = sign(job, entry, result, marker, gate, attempt, manifest=manifest)
        register(entry, job, marker, signed)
        verification = verify_path(attempt.signed, releasing=entry)
        with audit_atomic():
            Consent.objects.select_for_update(no_key=True).filter(pk=job.consent_id).first()
            last = decide_job(job)
            if not last.decision.allowed:
                refused = last
            else:
                refused = None
                attempt.publish()
                entry.issue()
                job.output.name = f"jobs/{job.pk}/{OUTPUT_NAME}"
                job.output_sha256, job.engine = signed.sha256, f"{result.engine} {result.engine_version}"
                job.audio_sha256, job.audio_seconds = voice_sha256, round(result.frames / result.fps, 3)
                job.decision = last.record_dict("before release")
                job.verification = verification
                job.status, job.finished_at = Job.Status.SUCCEEDED, timezone.now()
                job.progress_done = job.progress_total = result.frames
                job.save()
                LiveSession.objects.filter(pk=session.pk).update(status=LiveSession.Status.ENDED, end_reason=reason,
                                                                 ended_at=timezone.now())
                record("policy.decision", target=job, data={**last.record_dict("before release"),
                                                            "facts": last.facts})
                record("registry.issued", target=entry, data={"job": str(job.pk), "sha256": signed.sha256,
                                                              "watermark": marker.payload,
                                                              "live_session": str(session.pk)})
                record("job.succeeded", target=job, data={"frames": result.frames, "live_session": str(session.pk),
                                                          "verdict": verification["verdict"]})
                record("live.ended", target=session, data={"reason": reason, "frames": result.frames,
                                                           "dropped": result.dropped, "registry_id": entry.pk})
        if refused is not None:
            return stop_for(session, refused, "at release", recording=str(attempt.signed))
    finally:
        attempt.discard()
    session.refresh_from_db()
    return session
