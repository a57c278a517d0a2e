"""What the registry writes about an output before release: its C2PA manifest
(inputs by hash only, consent, soft binding, training-and-mining refusal) and the
signed, watermarked poster frame."""
from __future__ import annotations

import mimetypes
from pathlib import Path

import numpy as np
from PIL import Image

from common.files import sha256_file
from provenance.manifest import Ingredient, build_manifest, sign_file
from provenance.stillmark import CODEC_NAME as STILL_CODEC
from provenance.stillmark import mark_still

from .services import signer_config

_AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg",
                ".m4a": "audio/mp4", ".aac": "audio/aac", ".opus": "audio/opus", ".webm": "audio/webm"}


def _format(name: str, default: str) -> str:
    suffix = Path(name).suffix.lower()
    return _AUDIO_TYPES.get(suffix) or mimetypes.types_map.get(suffix) or default


def ingredients(job) -> list[Ingredient]:
    """The photo and the voice, by hash: no thumbnail or bytes of the person."""
    return [Ingredient(title=f"portrait{Path(job.photo.name).suffix.lower()}",
                       format=_format(job.photo.name, "image/jpeg"), sha256=job.photo_sha256, role="photo"),
            Ingredient(title=f"voice{Path(job.audio.name).suffix.lower()}",
                       format=_format(job.audio.name, "audio/wav"), sha256=job.audio_sha256, role="audio")]


def describe_output(job, entry, result, marker, consent, decision, *, fmt: str = "video/mp4",
                    codec: str | None = None, title: str | None = None) -> dict:
    duration_ms = int(result.frames * 1000 / result.fps) if fmt.startswith("video/") else None
    return build_manifest(
        title=title or f"Veritalk video {job.pk}", engine=result.engine, engine_version=result.engine_version,
        backend=f"{getattr(result, 'backend', 'cpu')} {getattr(result, 'backend_version', '')}".strip(),
        registry_id=entry.pk, watermark_payload=marker.payload,
        watermark_codec=codec or marker.codec, job_id=str(job.pk), consent_id=consent.pk if consent else None,
        policy_version=decision.policy_version, decision_sha256=decision.sha256, duration_ms=duration_ms,
        ingredients=ingredients(job), fmt=fmt)


def sign_poster(frame: np.ndarray, dest: Path, job, entry, result, marker, consent, decision) -> str:
    """Watermark the first frame for stills, sign it as PNG at `dest`; its SHA-256."""
    plain = dest.with_name(dest.name.replace(".partial.png", ".plain.partial.png"))
    try:
        Image.fromarray(mark_still(frame, entry.pk)).save(plain, format="PNG")
        manifest = describe_output(job, entry, result, marker, consent, decision, fmt="image/png",
                                   codec=STILL_CODEC, title=f"Veritalk poster {job.pk}")
        sign_file(plain, dest, manifest, signer_config(), mime="image/png")
    finally:
        plain.unlink(missing_ok=True)
    return sha256_file(dest)
