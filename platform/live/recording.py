"""Releasing a live session's recording: signed with a C2PA manifest that names the
session, registered under the registry id its frames were watermarked with, and
verified, in the same steps and the same transaction as a job's output
(jobs.runner): nothing is released if the last check, taken with the consent row
locked, refuses."""
from __future__ import annotations

import os
from pathlib import Path

from django.utils import timezone

from audit.chain import atomic as audit_atomic
from audit.chain import record
from consent.models import Consent
from jobs.gate import decide_job
from jobs.models import Job
from provenance.fingerprint import video_fingerprint
from provenance.manifest import PROVENANCE_LABEL, Ingredient, build_manifest, read_manifest, sign_file
from provenance.verify import sha256_file
from provenance.videomark import CODEC_NAME, VideoWatermarker
from registry.models import RegistryEntry
from registry.outputs import sign_poster
from registry.services import signer_config, trust_anchor, verify_path

from .ending import discard, stop_for
from .models import LiveSession

OUTPUT_NAME, POSTER_NAME = "output.mp4", "poster.png"


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
    job = Job.objects.get(pk=session.job_id)
    entry = RegistryEntry.objects.get(job=job)
    folder = Path(job.photo.path).parent
    rendered = Path(result.path)
    signed = folder / "output.live.signed.partial.mp4"
    poster = folder / "poster.live.partial.png"
    final = folder / OUTPUT_NAME
    gate = decide_job(job)
    if not gate.decision.allowed:
        return stop_for(session, gate, "before release", recording=str(rendered))
    try:
        marker = VideoWatermarker(entry.pk)
        manifest = live_manifest(session, job, entry, result, gate.consent, gate.decision, voice_sha256)
        store = sign_file(rendered, signed, manifest, signer_config())
        rendered.unlink(missing_ok=True)
        sha = sha256_file(signed)
        reading = read_manifest(signed, trust_anchor_pem=trust_anchor())
        poster_sha = sign_poster(result.poster, poster, job, entry, result, marker, gate.consent, gate.decision)
        fingerprint = video_fingerprint(signed)
        with audit_atomic():
            Consent.objects.select_for_update(no_key=True).filter(pk=job.consent_id).first()
            last = decide_job(job)
            if not last.decision.allowed:
                refused = last
            else:
                refused = None
                os.replace(signed, final)
                os.replace(poster, folder / POSTER_NAME)
                entry.state, entry.issued_at = RegistryEntry.State.ISSUED, timezone.now()
                entry.watermark_payload, entry.watermark_codec = marker.payload, marker.codec
                entry.output_sha256, entry.manifest = sha, reading.manifest
                entry.manifest_id, entry.manifest_store, entry.fingerprint = reading.label or "", store, fingerprint
                entry.poster, entry.poster_sha256 = f"jobs/{job.pk}/{POSTER_NAME}", poster_sha
                entry.save(update_fields=["state", "issued_at", "watermark_payload", "watermark_codec",
                                          "output_sha256", "manifest", "manifest_id", "manifest_store",
                                          "fingerprint", "poster", "poster_sha256"])
                job.output.name = f"jobs/{job.pk}/{OUTPUT_NAME}"
                job.output_sha256, job.engine = sha, f"{result.engine} {result.engine_version}"
                job.audio_sha256, job.audio_seconds = voice_sha256, round(result.frames / result.fps, 3)
                job.decision = last.record_dict("before release")
                job.verification = verify_path(final)
                job.status, job.finished_at = Job.Status.SUCCEEDED, timezone.now()
                job.progress_done = job.progress_total = result.frames
                job.save()
                LiveSession.objects.filter(pk=session.pk).update(status=LiveSession.Status.ENDED, end_reason=reason,
                                                                 ended_at=timezone.now())
                record("policy.decision", target=job, data={**last.record_dict("before release"),
                                                            "facts": last.facts})
                record("registry.issued", target=entry, data={"job": str(job.pk), "sha256": sha,
                                                              "watermark": marker.payload,
                                                              "live_session": str(session.pk)})
                record("job.succeeded", target=job, data={"frames": result.frames, "live_session": str(session.pk),
                                                          "verdict": job.verification["verdict"]})
                record("live.ended", target=session, data={"reason": reason, "frames": result.frames,
                                                           "dropped": result.dropped, "registry_id": entry.pk})
        if refused is not None:
            return stop_for(session, refused, "at release", recording=str(signed))
    finally:
        discard(rendered, signed, poster)
    session.refresh_from_db()
    return session
