"""Decoding user photos safely: sniff the real type, refuse bombs, give RGB."""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import CorruptFile, ImageTooLarge, UnsupportedFormat, gettext_noop

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
DEFAULT_MAX_PIXELS = 40_000_000


def sniff_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """Return the file extension for `data`'s real format, reading headers only."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                fmt, (w, h) = im.format, im.size
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise UnsupportedFormat(gettext_noop("the photo is not an image in a supported format (JPEG, PNG or WebP)"),
                                    field="photo") from exc
        raise ImageTooLarge(gettext_noop("the photo has too many pixels (limit %(limit)s)"), field="photo",
                            params={"limit": f"{max_pixels:,}"}) from exc
    except Exception as exc:  # truncated headers and the like
        raise CorruptFile(gettext_noop("the photo could not be read: %(reason)s"), field="photo",
                          params={"reason": str(exc)}) from exc
    if fmt not in ACCEPTED_FORMATS:
        raise UnsupportedFormat(gettext_noop("photo format %(format)s is not supported; use JPEG, PNG or WebP"),
                                field="photo", params={"format": fmt})
    if w * h > max_pixels:
        raise ImageTooLarge(gettext_noop("the photo is %(w)dx%(h)d, over the limit of %(limit)s pixels"), field="photo",
                            params={"w": w, "h": h, "limit": f"{max_pixels:,}"})
    return ACCEPTED_FORMATS[fmt]


def load_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode `data` to an RGB uint8 array, upright per its EXIF orientation."""
    sniff_image(data, max_pixels=max_pixels)
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            im = ImageOps.exif_transpose(im)
            rgb = im.convert("RGB")
    except Exception as exc:
        raise CorruptFile(gettext_noop("the photo is damaged and could not be decoded: %(reason)s"), field="photo",
                          params={"reason": str(exc)}) from exc
    return np.asarray(rgb, dtype=np.uint8).copy()


def load_image_file(path, **kwargs) -> np.ndarray:
    with open(path, "rb") as fh:
        return load_image(fh.read(), **kwargs)
