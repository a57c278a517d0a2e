"""Portrait framing: a square crop centred on the face, resized to the output size."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .face import FaceAnalysis


@dataclass(frozen=True)
class Framing:
    image: np.ndarray       # (size, size, 3) RGB
    landmarks: np.ndarray   # (68, 2) in the framed image


def frame_portrait(rgb: np.ndarray, face: FaceAnalysis, size: int, zoom: float = 2.3) -> Framing:
    """Crop a square about `zoom` times the face width around the face, kept inside
    the photo where possible (mirrored padding otherwise), resized to `size`."""
    lm = face.landmarks
    face_w = float(lm[16, 0] - lm[0, 0])
    face_h = float(lm[8, 1] - min(lm[19, 1], lm[24, 1]))
    h, w = rgb.shape[:2]
    side = max(face_w * zoom, face_h * zoom * 0.95, 32.0)
    # Prefer a tighter crop to padding: shrink to the photo, down to 1.5 face widths.
    side = max(min(side, float(min(h, w))), face_w * 1.5)
    cx = float(lm[:, 0].mean())
    cy = float((lm[8, 1] + min(lm[19, 1], lm[24, 1])) / 2.0) - 0.05 * face_h
    # Slide the square inside the photo where it fits.
    if side <= w:
        cx = min(max(cx, side / 2), w - side / 2)
    if side <= h:
        cy = min(max(cy, side / 2), h - side / 2)
    scale = size / side
    m = np.array([[scale, 0, size / 2 - cx * scale], [0, scale, size / 2 - cy * scale]], np.float32)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    out = cv2.warpAffine(rgb, m, (size, size), flags=interp, borderMode=cv2.BORDER_REFLECT101)
    pts = lm @ m[:, :2].T + m[:, 2]
    return Framing(image=out, landmarks=pts.astype(np.float32))
