"""Chosen files kept across a failed submit of the new-video form: an upload that
passed its own checks is stashed server-side under the user and the form's token, so
the creator does not choose it again when another field was wrong. A stash is removed
when the job is accepted, and any stash older than a day is removed when a new one is
written. Nothing here is a job file: jobs.services stores those."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from django.conf import settings

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_AGE_S = 24 * 3600


def _root() -> Path:
    return Path(settings.MEDIA_ROOT) / "stash"


def folder(user, token: str) -> Path | None:
    """The stash folder of `user` and form `token`; None for a malformed token."""
    if not token or not TOKEN.match(token) or user is None or user.pk is None:
        return None
    return _root() / str(user.pk) / token


def put(user, token: str, field: str, name: str, data: bytes) -> None:
    where = folder(user, token)
    if where is None:
        return
    _sweep()
    where.mkdir(parents=True, exist_ok=True)
    (where / f"{field}.bin").write_bytes(data)
    (where / f"{field}.name").write_text(Path(name).name[:200] or field, encoding="utf-8")


def get(user, token: str, field: str) -> tuple[str, bytes] | None:
    """(file name, bytes) of a stashed upload, or None."""
    where = folder(user, token)
    if where is None or not (where / f"{field}.bin").is_file():
        return None
    return (where / f"{field}.name").read_text(encoding="utf-8"), (where / f"{field}.bin").read_bytes()


def name(user, token: str, field: str) -> str | None:
    where = folder(user, token)
    if where is None or not (where / f"{field}.name").is_file():
        return None
    return (where / f"{field}.name").read_text(encoding="utf-8")


def drop(user, token: str, field: str | None = None) -> None:
    where = folder(user, token)
    if where is None or not where.exists():
        return
    if field is None:
        shutil.rmtree(where, ignore_errors=True)
    else:
        for suffix in (".bin", ".name"):
            (where / f"{field}{suffix}").unlink(missing_ok=True)


def _sweep() -> None:
    root, cutoff = _root(), time.time() - MAX_AGE_S
    if not root.exists():
        return
    for user_dir in root.iterdir():
        for token_dir in user_dir.iterdir() if user_dir.is_dir() else ():
            try:
                if token_dir.stat().st_mtime < cutoff:
                    shutil.rmtree(token_dir, ignore_errors=True)
            except FileNotFoundError:
                continue
