"""The poster frame's watermark: invisible-watermark's dwtDctSvd carrying the same
64 payload bits as the video (registry id + 32-bit check), so a still found alone
is traced like a video. One image costs about 0.1 s, which a poster can afford."""
from __future__ import annotations

import cv2
import numpy as np
from imwatermark import WatermarkDecoder, WatermarkEncoder

from .payload import payload_hex

CODEC_NAME = "iwm-dwtDctSvd"
_METHOD = "dwtDctSvd"
MIN_PIXELS = 256 * 256      # invisible-watermark refuses smaller images


def mark_still(rgb: np.ndarray, registry_id: int) -> np.ndarray:
    enc = WatermarkEncoder()
    enc.set_watermark("bytes", bytes.fromhex(payload_hex(registry_id)))
    bgr = enc.encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), _METHOD)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def read_still(rgb: np.ndarray) -> int | None:
    """The registry id, or None when the 64 bits do not carry a valid check, or when the
    image has fewer pixels than invisible-watermark reads (256 x 256; it raises there: a
    poster shrunk that far is left to the video codec's pattern)."""
    if rgb.shape[0] * rgb.shape[1] < MIN_PIXELS or min(rgb.shape[:2]) < 64:
        return None
    raw = WatermarkDecoder("bytes", 64).decode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), _METHOD)
    registry_id = int.from_bytes(raw[:4], "big")
    try:
        return registry_id if 0 < registry_id and payload_hex(registry_id) == raw.hex() else None
    except ValueError:
        return None
