"""File hashing, in one place: the SHA-256 that outputs, inputs, caches and the registry
are identified by."""
from __future__ import annotations

import hashlib
import os


def sha256_file(path: str | os.PathLike) -> str:
    """The file's SHA-256 as hex, read in chunks (large videos stay out of memory)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def sha256_stream(fileobj) -> str:
    """The SHA-256 of a binary file object from its current position to its end."""
    return hashlib.file_digest(fileobj, "sha256").hexdigest()
