"""Validating uploads before anything is stored: size, real type, decodable audio
within the length limit, valid controls (read_uploads, cheap enough for the request
path), and exactly one face, a photograph of a person (not a drawing, a cartoon or a
render: detection.photo_check), with its identity embedding (analyse_photo, the intake's
work). Bad input raises generation.errors.InputError and leaves no file behind."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from common.units import megabytes
from detection.photo_check import require_photograph
from generation.audio import EXTENSIONS as AUDIO_EXTENSIONS
from generation.audio import decode_audio
from generation.controls import Controls
from generation.errors import CorruptFile, FileTooLarge, gettext_noop
from generation.face import analyse_face, face_embedding
from generation.images import load_image, sniff_image


@dataclass(frozen=True)
class Uploads:
    """What the request path checks (no face analysis): sizes, real types, the pixel
    count from the image header, a decodable voice track within the length limit."""
    photo: bytes
    photo_ext: str
    photo_sha256: str
    audio: bytes
    audio_ext: str
    audio_sha256: str
    audio_seconds: float
    controls: Controls


@dataclass(frozen=True)
class PhotoFace:
    box: list[float]
    embedding: list[float]


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
            raise FileTooLarge(gettext_noop("the %(field)s file is %(size)s MB; the limit is %(limit)s MB"),
                               field=field, params={"field": field, "size": megabytes(size), "limit": megabytes(limit)})
        data = f.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(gettext_noop("the %(field)s file is larger than the limit of %(limit)s MB"), field=field,
                           params={"field": field, "limit": megabytes(limit)})
    if not data:
        raise CorruptFile(gettext_noop("the %(field)s file is empty"), field=field, params={"field": field})
    return data


def read_uploads(photo, audio, controls: dict | Controls | None) -> Uploads:
    """The cheap checks, fit for the request path: the photo is not decoded here."""
    photo_bytes = read_upload(photo, limit=settings.VERITALK_MAX_PHOTO_BYTES, field="photo")
    audio_bytes = read_upload(audio, limit=settings.VERITALK_MAX_AUDIO_BYTES, field="audio")
    if not isinstance(controls, Controls):
        controls = Controls.from_mapping(controls or {})
    photo_ext = sniff_image(photo_bytes, max_pixels=settings.VERITALK_MAX_PHOTO_PIXELS)
    decoded = decode_audio(audio_bytes, max_seconds=settings.VERITALK_MAX_AUDIO_SECONDS)
    return Uploads(photo=photo_bytes, photo_ext=photo_ext, photo_sha256=hashlib.sha256(photo_bytes).hexdigest(),
                   audio=audio_bytes, audio_ext=AUDIO_EXTENSIONS[decoded.container],
                   audio_sha256=hashlib.sha256(audio_bytes).hexdigest(), audio_seconds=round(decoded.duration, 3),
                   controls=controls)


def analyse_photo(photo_bytes: bytes) -> PhotoFace:
    """The photo's single face and its identity embedding (the intake's work: dlib,
    a few hundred milliseconds); NoFaceFound, MultipleFaces, NotAPhotograph or
    CorruptFile otherwise."""
    rgb = load_image(photo_bytes, max_pixels=settings.VERITALK_MAX_PHOTO_PIXELS)
    face = analyse_face(rgb)
    require_photograph(rgb, face.landmarks)
    return PhotoFace(box=face.box.as_list(), embedding=[round(float(v), 6) for v in face_embedding(rgb, face)])


def validate_inputs(photo, audio, controls: dict | Controls | None) -> ValidatedInputs:
    """Every check at once, face included (the command line's synchronous path)."""
    uploads = read_uploads(photo, audio, controls)
    face = analyse_photo(uploads.photo)
    return ValidatedInputs(
        photo=uploads.photo, photo_ext=uploads.photo_ext, photo_sha256=uploads.photo_sha256, face_box=face.box,
        face_embedding=face.embedding, audio=uploads.audio, audio_ext=uploads.audio_ext,
        audio_sha256=uploads.audio_sha256, audio_seconds=uploads.audio_seconds, controls=uploads.controls)
