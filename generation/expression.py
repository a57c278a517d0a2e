"""The photo's own expression, read from its 68 landmarks and its pixels: how far the
mouth is open (inner-lip gap over the eye distance), how much of the opening shows
teeth, how much the corners are raised (a smile). The rig renders relative to a
neutral rest from it: a wide-open photo mouth is closed at rest, a teeth-showing
smile keeps the person's own teeth, a closed mouth opens onto a painted interior."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CLOSED, TEETH_SMILE, WIDE_OPEN = "closed", "teeth_smile", "wide_open"
KINDS = (CLOSED, TEETH_SMILE, WIDE_OPEN)
OPEN_GAP = 0.08        # inner-lip gap / eye distance above which a mouth without teeth is open
TEETH_GAP = 0.02       # ... above which teeth can show at all
TEETH_SHARE = 0.30     # share of the opening that looks like teeth for a teeth-showing mouth


@dataclass(frozen=True)
class PhotoExpression:
    opening: float          # mean inner-lip gap / outer-eye-corner distance
    teeth: float            # share of the inner-lip polygon's pixels that look like teeth
    smile: float            # mouth corners above the lips' centre, / eye distance (> 0: smiling)
    kind: str               # CLOSED, TEETH_SMILE or WIDE_OPEN

    def as_dict(self) -> dict:
        return {"opening": round(self.opening, 3), "teeth": round(self.teeth, 3), "smile": round(self.smile, 3),
                "kind": self.kind}


def eye_distance(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[45] - lm[36])) or 1.0


def inner_gap(lm: np.ndarray) -> np.ndarray:
    """Gap (pixels) between the inner lips at their three middle points (61/67, 62/66, 63/65)."""
    return lm[[67, 66, 65], 1] - lm[[61, 62, 63], 1]


def _teeth_like(rgb: np.ndarray, lm: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Pixels of `box` (x0, y0, x1, y1) that look like teeth: bright for the face and with
    little colour (lips, tongue and the cavity are red or dark)."""
    x0, y0, x1, y1 = box
    patch = rgb[y0:y1, x0:x1].astype(np.float32)
    luma = patch @ np.float32([0.299, 0.587, 0.114])
    chroma = (patch.max(axis=2) - patch.min(axis=2)) / np.maximum(patch.max(axis=2), 1.0)
    # the face's own light: the nose's bridge and cheeks between the eyes and the mouth
    sx0, sx1 = int(min(lm[31, 0], lm[35, 0])), int(max(lm[31, 0], lm[35, 0])) + 1
    sy0, sy1 = int(lm[28, 1]), int(lm[33, 1]) + 1
    skin = rgb[max(sy0, 0):max(sy1, sy0 + 1), max(sx0, 0):max(sx1, sx0 + 1)].reshape(-1, 3).astype(np.float32)
    skin_luma = float(np.median(skin @ np.float32([0.299, 0.587, 0.114]))) if len(skin) else 150.0
    skin_chroma = (float(np.median((skin.max(1) - skin.min(1)) / np.maximum(skin.max(1), 1.0)))
                   if len(skin) else 0.3)
    return (luma > 0.72 * skin_luma) & (chroma < max(0.6 * skin_chroma, 0.08) + 0.12)


def _box_of(pts: np.ndarray, shape) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    return (max(int(np.floor(pts[:, 0].min())), 0), max(int(np.floor(pts[:, 1].min())), 0),
            min(int(np.ceil(pts[:, 0].max())) + 1, w), min(int(np.ceil(pts[:, 1].max())) + 1, h))


def teeth_mask(rgb: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Pixels inside the inner lips that look like teeth, in the inner-lip box."""
    pts = lm[60:68]
    x0, y0, x1, y1 = box = _box_of(pts, rgb.shape)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), bool), box
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [np.round(pts - [x0, y0]).astype(np.int32)], 1)
    return _teeth_like(rgb, lm, box) & (inside > 0), box


def opening_edges(rgb: np.ndarray, lm: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The open mouth's upper and lower edges (y) at columns `xs`: the inner lips, moved
    out past any teeth that touch them. dlib often puts the inner-lip points on the teeth
    of a wide-open mouth, and a shut that brings those points together leaves the teeth
    showing between the lips."""
    lm = np.asarray(lm, np.float64)
    up = np.interp(xs, lm[[60, 61, 62, 63, 64], 0], lm[[60, 61, 62, 63, 64], 1])
    lo = np.interp(xs, lm[[60, 67, 66, 65, 64], 0], lm[[60, 67, 66, 65, 64], 1])
    x0, y0, x1, y1 = box = _box_of(lm[48:60], rgb.shape)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return up, lo
    teeth = _teeth_like(rgb, lm, box)
    top, bottom = up.copy(), lo.copy()
    for i, x in enumerate(xs):
        c = int(round(x)) - x0
        if not 0 <= c < teeth.shape[1] or lo[i] - up[i] < 2:
            continue
        col = teeth[:, c]
        r = int(round(up[i])) - y0          # up from the upper edge while the column shows teeth
        while 0 < r <= len(col) and col[r - 1]:
            r -= 1
        top[i] = min(up[i], r + y0)
        r = int(round(lo[i])) - y0          # down from the lower edge likewise
        while 0 <= r < len(col) - 1 and col[r + 1]:
            r += 1
        bottom[i] = max(lo[i], r + y0)
    # smooth along the mouth: one stray bright pixel must not notch the edge
    k = max(3, (len(xs) // 12) | 1)
    top = np.minimum(up, cv2.GaussianBlur(top.reshape(1, -1).astype(np.float32), (k, 1), 0).ravel())
    bottom = np.maximum(lo, cv2.GaussianBlur(bottom.reshape(1, -1).astype(np.float32), (k, 1), 0).ravel())
    return top, bottom


def read_expression(rgb: np.ndarray, lm: np.ndarray) -> PhotoExpression:
    lm = np.asarray(lm, np.float64)
    iod = eye_distance(lm)
    opening = float(np.mean(inner_gap(lm))) / iod
    teeth, box = teeth_mask(rgb, lm)
    inside = np.zeros(teeth.shape, np.uint8)
    if inside.size:
        cv2.fillPoly(inside, [np.round(lm[60:68] - box[:2]).astype(np.int32)], 1)
    area = int(inside.sum())
    share = float(teeth.sum() / area) if area >= 12 else 0.0
    centre = (lm[51, 1] + lm[57, 1]) / 2
    smile = float(centre - (lm[48, 1] + lm[54, 1]) / 2) / iod
    if share >= TEETH_SHARE and opening >= TEETH_GAP:
        kind = TEETH_SMILE       # the person's own teeth show: they stay, the cavity opens behind them
    elif opening >= OPEN_GAP:
        kind = WIDE_OPEN         # an open mouth without a row of teeth: closed at rest by lifting the jaw
    else:
        kind = CLOSED
    return PhotoExpression(opening=opening, teeth=share, smile=smile, kind=kind)


def occlusal_fraction(rgb: np.ndarray, lm: np.ndarray) -> float:
    """Where the upper teeth end in a mouth that shows teeth, as a fraction of the way from
    the upper to the lower inner lip (0.5 in the middle of the opening): the darkest row
    (the dark line between upper and lower teeth) in the lower three quarters of the
    opening's middle, when it is clearly darker than the teeth; 1.0 (the lower lip) when
    there is none, i.e. only the upper row shows."""
    lm = np.asarray(lm, np.float64)
    top, bottom = float(lm[[61, 62, 63], 1].mean()), float(lm[[67, 66, 65], 1].mean())
    x0, x1 = int(round(lm[61, 0])), int(round(lm[63, 0])) + 1
    y0, y1 = int(round(top)), int(round(bottom)) + 1
    h, w = rgb.shape[:2]
    x0, x1, y0, y1 = max(x0, 0), min(x1, w), max(y0, 0), min(y1, h)
    if y1 - y0 < 6 or x1 - x0 < 3:
        return 0.5
    rows = rgb[y0:y1, x0:x1].astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
    profile = cv2.GaussianBlur(rows.mean(axis=1).reshape(-1, 1), (1, 3), 0).ravel()
    start = max(1, int(0.25 * len(profile)))
    window = profile[start:len(profile) - 1]
    if not len(window):
        return 0.5
    i = int(np.argmin(window)) + start
    teeth = float(np.percentile(profile, 80))
    if profile[i] < 0.7 * teeth:
        return float(np.clip((y0 + i - top) / max(bottom - top, 1.0), 0.25, 1.0))
    return 1.0
