"""Verifying an uploaded file (portal and API): spooled to a temporary file, refused
with a clear message unless it is a video or an image, then checked like any file."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import av
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from common.units import megabytes
from generation.errors import CorruptFile, FileTooLarge, UnsupportedFormat, gettext_noop
from provenance.manifest_report import manifest_report

from .services import trust_anchor, verify_path

MAX_VERIFY_BYTES = 500 * 1024 * 1024
VIDEO_CONTAINERS = {"mov", "mp4", "m4a", "3gp", "matroska", "webm", "avi", "mpegts", "flv"}
SUFFIXES = (".mp4", ".mov", ".m4v", ".png", ".jpg", ".jpeg", ".webp")


def media_kind(path) -> str:
    """'video' or 'image', or UnsupportedFormat naming the problem."""
    try:  # images first: FFmpeg would also open a JPEG, as a one-frame "video"
        with Image.open(path) as im:
            im.verify()
        return "image"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        pass
    try:
        with av.open(str(path)) as container:
            # FFmpeg opens nearly anything (a text file is "tty" video): only real containers count
            names = set(container.format.name.split(","))
            if names & VIDEO_CONTAINERS and container.streams.video:
                return "video"
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError):
        pass
    raise UnsupportedFormat(gettext_noop("the file is neither a video nor an image we can read "
                                         "(MP4, MOV, JPEG, PNG or WebP)"), field="file")


def verify_upload(upload) -> dict:
    """The verification summary of an uploaded file, with its manifest report under `manifest`."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_VERIFY_BYTES:
        raise FileTooLarge(gettext_noop("the file is %(size)s MB; the limit is %(limit)s MB"), field="file",
                           params={"size": megabytes(size), "limit": megabytes(MAX_VERIFY_BYTES)})
    if not size:
        raise CorruptFile(gettext_noop("the file is empty"), field="file")
    name = getattr(upload, "name", "") or ""
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in SUFFIXES else ".mp4"
    with tempfile.NamedTemporaryFile(suffix=suffix, dir=settings.VAR_DIR) as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        kind = media_kind(tmp.name)
        if kind == "image" and suffix in (".mp4", ".mov", ".m4v"):
            # c2pa reads by the name's type: give an image its image suffix
            with Image.open(tmp.name) as im:
                fmt = (im.format or "png").lower()
            return _verify_as(tmp.name, f".{'jpg' if fmt == 'jpeg' else fmt}", kind)
        result = verify_path(tmp.name)
        result["manifest"] = manifest_report(tmp.name, trust_anchor_pem=trust_anchor())
    result["kind"] = kind
    return result


def _verify_as(path: str, suffix: str, kind: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=suffix, dir=settings.VAR_DIR) as tmp:
        shutil.copyfile(path, tmp.name)
        result = verify_path(tmp.name)
        result["manifest"] = manifest_report(tmp.name, trust_anchor_pem=trust_anchor())
    result["kind"] = kind
    return result
