"""Portrait framing: a crop of the output's aspect around the face, resized to the
output size; where the photo has no room for it, the rest is a blurred extension of
the photo's own edges."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .face import FaceAnalysis

PORTRAIT_FACE_Y = 0.40     # in a tall (9:16) frame the face's centre sits 40 % of the way down
MIN_FACE_SIDES = 1.5       # the crop's short side never shrinks below 1.5 face widths


@dataclass(frozen=True)
class Framing:
    image: np.ndarray       # (height, width, 3) RGB
    landmarks: np.ndarray   # (68, 2) in the framed image
    padded: bool = False    # part of the frame is the blurred extension (the photo had no room)


def _size_pair(size) -> tuple[int, int]:
    if isinstance(size, (tuple, list)):
        return int(size[0]), int(size[1])
    return int(size), int(size)


def frame_portrait(rgb: np.ndarray, face: FaceAnalysis, size, zoom: float = 2.3) -> Framing:
    """Frame the face for an output of `size` (N for a square, or (width, height)).

    The frame's short side spans about `zoom` times the face width. The crop keeps
    to the photo where it can: it slides inside it, then shrinks until its short side
    fits (a tighter framing, down to MIN_FACE_SIDES face widths); what still falls
    outside the photo is filled with a blurred extension of its edges."""
    out_w, out_h = _size_pair(size)
    lm = face.landmarks
    face_w = float(lm[16, 0] - lm[0, 0])
    face_h = float(lm[8, 1] - min(lm[19, 1], lm[24, 1]))
    h, w = rgb.shape[:2]
    aspect = out_w / out_h
    short = max(face_w * zoom, face_h * zoom * 0.95, 32.0)
    cw, ch = (short * aspect, short) if aspect >= 1 else (short, short / aspect)
    # Prefer a tighter crop to padding in the frame's short dimension: shrink to the photo
    # there, down to MIN_FACE_SIDES face widths (the long dimension is padded rather than
    # filled with an ever larger face).
    shrink = min(1.0, w / cw if aspect <= 1 else 1.0, h / ch if aspect >= 1 else 1.0)
    shrink = max(shrink, MIN_FACE_SIDES * face_w / min(cw, ch))
    cw, ch = cw * shrink, ch * shrink
    cx = float(lm[:, 0].mean())
    cy = float((lm[8, 1] + min(lm[19, 1], lm[24, 1])) / 2.0) - 0.05 * face_h
    if aspect < 1:       # a tall frame shows the shoulders below the face
        cy += (0.5 - PORTRAIT_FACE_Y) * ch
    # Slide the crop inside the photo where it fits.
    if cw <= w:
        cx = min(max(cx, cw / 2), w - cw / 2)
    if ch <= h:
        cy = min(max(cy, ch / 2), h - ch / 2)
    scale = out_w / cw
    m = np.array([[scale, 0, out_w / 2 - cx * scale], [0, scale, out_h / 2 - cy * scale]], np.float32)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    pts = (lm @ m[:, :2].T + m[:, 2]).astype(np.float32)
    x0, y0 = m[0, 2], m[1, 2]
    x1, y1 = x0 + w * scale, y0 + h * scale
    padded = x0 > 0.5 or y0 > 0.5 or x1 < out_w - 0.5 or y1 < out_h - 0.5
    if not padded:
        out = cv2.warpAffine(rgb, m, (out_w, out_h), flags=interp, borderMode=cv2.BORDER_REFLECT101)
        return Framing(image=out, landmarks=pts)
    return Framing(image=_blurred_extension(rgb, m, (out_w, out_h), interp), landmarks=pts, padded=True)


def _blurred_extension(rgb: np.ndarray, m: np.ndarray, out_size: tuple[int, int], interp: int) -> np.ndarray:
    """The photo placed by `m`, and around it its edge pixels stretched outwards and
    blurred, more the further from the photo (a soft continuation, not a mirror).

    The continuation has no detail finer than its blur, so it is made at half size and
    blended in only outside the photo's rectangle (a fifth of the time at 1920x1080)."""
    out_w, out_h = out_size
    sharp = cv2.warpAffine(rgb, m, (out_w, out_h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(np.ones(rgb.shape[:2], np.uint8), m, (out_w, out_h), flags=cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    long_side = max(out_w, out_h)
    half = (max(1, (out_w + 1) // 2), max(1, (out_h + 1) // 2))
    img = cv2.resize(sharp, half, interpolation=cv2.INTER_AREA).astype(np.float32)
    dist = 2.0 * cv2.distanceTransform(1 - cv2.resize(inside, half, interpolation=cv2.INTER_NEAREST),
                                       cv2.DIST_L2, 3)             # full-size px from the photo
    soft = cv2.GaussianBlur(img, (0, 0), (0.01 * long_side + 1) / 2)
    # far out, a very wide blur (made at an eighth of the size): the stretched edge pixels'
    # streaks melt into a soft continuation of the photo's colours
    small = cv2.resize(img, (max(1, out_w // 8), max(1, out_h // 8)), interpolation=cv2.INTER_AREA)
    softer = cv2.resize(cv2.GaussianBlur(small, (0, 0), 0.08 * long_side / 8 + 1), half,
                        interpolation=cv2.INTER_LINEAR)
    b = np.clip((dist - 0.02 * long_side) / (0.08 * long_side), 0, 1)[..., None]   # soft -> softer further out
    ext = (soft * (1 - b) + softer * b) * (1.0 - 0.12 * b)      # a touch darker far out, so it recedes
    ext = cv2.resize(ext, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    # sharp -> soft right at the photo's edge, in the bands around its rectangle
    ramp = 0.01 * long_side + 2
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    ry0, ry1 = (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (out_h, out_h)
    rx0, rx1 = (int(cols[0]), int(cols[-1]) + 1) if len(cols) else (out_w, out_w)
    bands = [np.s_[:ry0], np.s_[ry1:], np.s_[:, :rx0], np.s_[:, rx1:]]
    full_dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)
    out = sharp.copy()
    for band in bands:
        a = np.clip(full_dist[band] / ramp, 0, 1)[..., None]
        if not a.any():
            continue
        blend = sharp[band].astype(np.float32) * (1 - a) + ext[band] * a
        out[band] = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
    return out
