"""Validating uploads before anything is stored: size, real type, exactly one
face, decodable audio within the length limit, valid controls. Bad input raises
generation.errors.InputError and leaves no job and no file behind."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from generation.audio import EXTENSIONS as AUDIO_EXTENSIONS
from generation.audio import decode_audio
from generation.controls import Controls
from generation.errors import CorruptFile, FileTooLarge, gettext_noop
from generation.face import analyse_face, face_embedding
from generation.images import load_image, sniff_image


@dataclass(frozen=True)
class ValidatedInputs:
    photo: bytes
    photo_ext: str
    photo_sha256: str
    face_box: list[float]
    face_embedding: list[float]
    audio: bytes
    audio_ext: str
    audio_sha256: str
    audio_seconds: float
    controls: Controls


def read_upload(f, *, limit: int, field: str) -> bytes:
    """Read an uploaded file (Django UploadedFile, file object or bytes) within `limit` bytes."""
    if isinstance(f, (bytes, bytearray)):
        data = bytes(f)
    else:
        size = getattr(f, "size", None)
        if size is not None and size > limit:
            raise FileTooLarge(gettext_noop("the %(field)s file is %(size)s bytes; the limit is %(limit)s"),
                               field=field, params={"field": field, "size": f"{size:,}", "limit": f"{limit:,}"})
        data = f.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(gettext_noop("the %(field)s file is larger than the limit of %(limit)s bytes"), field=field,
                           params={"field": field, "limit": f"{limit:,}"})
    if not data:
        raise CorruptFile(gettext_noop("the %(field)s file is empty"), field=field, params={"field": field})
    return data


def validate_inputs(photo, audio, controls: dict | Controls | None) -> ValidatedInputs:
    photo_bytes = read_upload(photo, limit=settings.VERITALK_MAX_PHOTO_BYTES, field="photo")
    audio_bytes = read_upload(audio, limit=settings.VERITALK_MAX_AUDIO_BYTES, field="audio")
    if not isinstance(controls, Controls):
        controls = Controls.from_mapping(controls or {})
    max_pixels = settings.VERITALK_MAX_PHOTO_PIXELS
    photo_ext = sniff_image(photo_bytes, max_pixels=max_pixels)
    rgb = load_image(photo_bytes, max_pixels=max_pixels)
    face = analyse_face(rgb)
    embedding = [round(float(v), 6) for v in face_embedding(rgb, face)]
    del rgb  # the pixels are needed only for the face analysis
    decoded = decode_audio(audio_bytes, max_seconds=settings.VERITALK_MAX_AUDIO_SECONDS)
    return ValidatedInputs(
        photo=photo_bytes, photo_ext=photo_ext, photo_sha256=hashlib.sha256(photo_bytes).hexdigest(),
        face_box=face.box.as_list(), face_embedding=embedding, audio=audio_bytes,
        audio_ext=AUDIO_EXTENSIONS[decoded.container],
        audio_sha256=hashlib.sha256(audio_bytes).hexdigest(), audio_seconds=round(decoded.duration, 3),
        controls=controls)
