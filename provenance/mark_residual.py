"""The mark as our own encoder left it, kept beside a stored output so that the registry
path can take the picture out of a copy before testing the payload.

A constant watermark's main noise is the picture itself. The registry path knows the
output a copy came from, so it could subtract the picture, if it knew the picture
without the mark. What is stored is the difference: the pooled luma of the stored
file minus the pooled luma of the frames before marking (the watermark after our
encode, plus the encoder's own error). It is not a picture of the face, and nothing
unmarked is ever written. The stored output minus this residual is the unmarked
picture, up to the pooled frames (`host_of`).

The file is an 8-bit quantised array in an `.npz` read with `allow_pickle=False`; a
missing, damaged or mismatched file is simply not used (the test without the host runs).
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

SUFFIX = ".mark.npz"
STEP = 1 / 8            # luma levels per stored unit: the residual keeps +-16 levels
LIMIT = 127


def residual_path(output_path) -> Path:
    """Where the residual of the output at `output_path` lives: beside it."""
    p = Path(output_path)
    return p.with_name(p.stem + SUFFIX)


def residual(output_mean: np.ndarray, host_mean: np.ndarray) -> np.ndarray | None:
    """The stored file's pooled luma minus the unmarked frames' (None when they differ in size)."""
    if host_mean is None or output_mean.shape != host_mean.shape:
        return None
    return output_mean.astype(np.float32) - host_mean.astype(np.float32)


def save(path, values: np.ndarray) -> Path:
    """Write the residual (quantised to STEP, clipped) atomically to `path`."""
    path = Path(path)
    q = np.clip(np.rint(values / STEP), -LIMIT, LIMIT).astype(np.int8)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, residual=q, step=np.float32(STEP))
    os.replace(tmp, path)
    return path


def load(path, shape) -> np.ndarray | None:
    """The residual at `path` if it is ours and fits a picture of `shape`, else None."""
    try:
        with np.load(path, allow_pickle=False) as z:
            q, step = z["residual"], float(z["step"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        return None
    if q.dtype != np.int8 or q.shape != tuple(shape) or not 0 < step <= 1:
        return None
    return q.astype(np.float32) * step


def write_for(output_path, output_mean: np.ndarray, host_mean: np.ndarray | None) -> Path | None:
    """Compute the residual of an output and store it beside it (None: nothing to keep)."""
    r = residual(output_mean, host_mean)
    return None if r is None else save(residual_path(output_path), r)


def host_of(output_path, output_mean: np.ndarray) -> np.ndarray | None:
    """The unmarked picture a stored output was made from (pooled luma), or None."""
    r = load(residual_path(output_path), output_mean.shape)
    return None if r is None else output_mean - r


__all__ = ["host_of", "load", "residual", "residual_path", "save", "write_for"]
