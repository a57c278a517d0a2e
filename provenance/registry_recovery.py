"""Registry-assisted recovery: when the blind decoder finds no payload in a copy, the
outputs it looks like (face-descriptor index) are tried one by one. The copy is
aligned to each candidate's stored output (SIFT matches, RANSAC affine, ECC
refinement, the mirror image tried too), its pooled luma is resampled onto the
output's own pixel grid, and the candidate's payload is tested there (informed
detection: the candidate's codeword is known, so a normalised correlation with it
needs far less signal than blind decoding of an unknown word). Where the output's mark
residual is kept (mark_residual), the output's unmarked picture is taken out of the copy
first: the picture is a constant watermark's main noise.

False positives: for a copy that does not carry candidate c's watermark, the 120 soft
bits' signs relative to c's codeword are modelled as independent fair coins (the chip
signs are pseudo-random), whatever their magnitudes. By Hoeffding's inequality the
normalised correlation then exceeds t with probability at most exp(-t^2 / 2); with at
most MAX_CANDIDATES tests per copy the threshold INFORMED_THRESHOLD keeps the chance
of a false payload per copy at most FALSE_POSITIVE_BUDGET.

The same alignment answers the content question of `verify`: a copy whose aligned
pictures correlate with the output's (SAME_CONTENT) is that output, cropped, resized,
padded, flipped or recoloured; our watermark on pictures that do not align is pasted.
"""
from __future__ import annotations

import hashlib
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from . import fingerprint
from .payload import CODED_BITS, encode_payload, payload_hex
from .pooling import pool_frames
from .videomark import CHIP, VideoWatermarker, soft_bits_at

MAX_CANDIDATES = 5
FALSE_POSITIVE_BUDGET = 1e-9
# sqrt(2 ln(MAX_CANDIDATES / FALSE_POSITIVE_BUDGET)) = 6.69, rounded up: 5 exp(-6.7^2 / 2) = 8.9e-10 per copy
INFORMED_THRESHOLD = 6.7
SAME_CONTENT = 0.8          # correlation of the aligned pictures above which the copy is that output
MAX_POOLED = 250            # frames pooled per video
ALIGN_SIDE = 512            # alignment works on pictures no larger than this (long side)
MIN_INLIERS = 12
REFINE_SIDE = 1024          # the last refinement works on pictures no larger than this (long side)
BAR_LEVEL = 6.0             # pooled luma under which a copy's pixel is taken for a black bar


@dataclass(frozen=True)
class Pooled:
    """Sum of the luma of up to MAX_POOLED frames at the file's size, and its mean."""
    total: np.ndarray
    frames: int

    @property
    def mean(self) -> np.ndarray:
        return self.total / max(1, self.frames)


def pooled_luma(path, *, max_frames: int = MAX_POOLED) -> Pooled | None:
    total, n = pool_frames(path, max_frames,
                           lambda _stream: lambda f: f.to_ndarray(format="gray").astype(np.float32))
    return None if total is None else Pooled(total, n)


class _Recent:
    """The last `size` results of an expensive computation, by key (thread-safe; a None
    result is not kept)."""

    def __init__(self, size: int):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key, make):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        if value is not None:
            with self._lock:
                self._items[key] = value
                if len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value


_OUTPUTS = _Recent(8)       # stored outputs' pooled luma: a server tests the same outputs often


def pooled_output(path) -> Pooled | None:
    """pooled_luma of a registry's stored output, kept in memory for the next copy (by path,
    size and modification time: a replaced file is read again)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _OUTPUTS.get((os.fspath(path), st.st_size, st.st_mtime_ns), lambda: pooled_luma(path))


@dataclass(frozen=True)
class Alignment:
    matrix: np.ndarray      # 2x3: output pixel -> copy pixel
    mirrored: bool
    correlation: float      # of the aligned pictures, over the area both cover
    coverage: float         # share of the output's frame the copy covers
    scale: tuple[float, float]
    rotation_deg: float

    def as_dict(self) -> dict:
        return {"mirrored": self.mirrored, "correlation": round(self.correlation, 3),
                "coverage": round(self.coverage, 3), "scale": [round(s, 3) for s in self.scale],
                "rotation_deg": round(self.rotation_deg, 2)}


def _shrunk(img: np.ndarray, side: int = ALIGN_SIDE) -> tuple[np.ndarray, float]:
    """`img` at most `side` pixels on its long side, and the factor applied."""
    k = min(1.0, side / max(img.shape))
    if k < 1.0:
        img = cv2.resize(img, (max(8, round(img.shape[1] * k)), max(8, round(img.shape[0] * k))),
                         interpolation=cv2.INTER_AREA)
    return img, k


def _u8(img: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(img, (0.5, 99.5))
    return np.clip((img - lo) * (255.0 / max(hi - lo, 1e-3)), 0, 255).astype(np.uint8)


SIFT_SIDE = 320             # SIFT looks for matches at this size (long side); ECC refines at ALIGN_SIDE
_FEATURES = _Recent(16)     # pictures' SIFT features, by content: an output is matched many times


def _features(img: np.ndarray):
    """(keypoints as an (n, 2) array in `img` pixels, descriptors) of a picture, at most
    SIFT_SIDE pixels on its long side (SIFT doubles the picture first, so its cost grows
    with the area; the pooled pictures are smooth and give about 100 keypoints at any of
    these sizes). Cached by content."""
    key = (img.shape, hashlib.blake2b(np.ascontiguousarray(img).tobytes(), digest_size=16).digest())
    return _FEATURES.get(key, lambda: _sift_features(img))


def _sift_features(img: np.ndarray):
    small, k = _shrunk(img, SIFT_SIDE)
    kps, desc = cv2.SIFT_create(nfeatures=3000).detectAndCompute(_u8(small), None)
    pts = np.float32([kp.pt for kp in kps]).reshape(-1, 2)
    if k != 1.0:
        pts = (pts + 0.5) * np.float32([img.shape[1] / small.shape[1], img.shape[0] / small.shape[0]]) - 0.5
    return pts, desc


def _sift_affine(out_img: np.ndarray, copy_img: np.ndarray) -> tuple[np.ndarray, int] | None:
    k1, d1 = _features(out_img)
    k2, d2 = _features(copy_img)
    if d1 is None or d2 is None or len(k1) < MIN_INLIERS or len(k2) < MIN_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(d1, d2, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
    if len(good) < MIN_INLIERS:
        return None
    src = np.float32([k1[m.queryIdx] for m in good])
    dst = np.float32([k2[m.trainIdx] for m in good])
    matrix, inliers = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0,
                                           maxIters=4000, confidence=0.999)
    if matrix is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    return matrix, int(inliers.sum())


def _warp_to_output(copy_img: np.ndarray, matrix: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(copy_img.astype(np.float32), matrix, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    valid = cv2.warpAffine(np.ones(copy_img.shape, np.float32), matrix, (w, h), flags=flags,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped, valid


def _correlation(a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> float:
    m = cv2.erode(valid, np.ones((7, 7), np.uint8)) > 0.99
    if m.sum() < 64:
        return 0.0
    x, y = a[m] - a[m].mean(), b[m] - b[m].mean()
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-9))


def _picture_size(img: np.ndarray) -> tuple[int, int]:
    """(width, height) of the part of a frame that is not black bars (rows and columns of
    which at least a fifth is picture)."""
    picture = fingerprint.picture_mask(img, BAR_LEVEL, erode=1)
    rows, cols = np.flatnonzero(picture.mean(axis=1) > 0.2), np.flatnonzero(picture.mean(axis=0) > 0.2)
    if len(rows) < 8 or len(cols) < 8:
        return img.shape[1], img.shape[0]
    return int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def align(copy_mean: np.ndarray, output_mean: np.ndarray) -> Alignment | None:
    """The affine map from the output's frame onto the copy's, from SIFT matches and
    RANSAC, refined by ECC over the copy's picture (not its bars). SIFT copes with scale
    and rotation but not with a strong squeeze, nor with a mirror image: the copy is also
    tried mirrored and with its picture restretched to the output's proportions. None
    when no consistent map exists."""
    out_s, k_out = _shrunk(output_mean)
    copy_s, k_copy = _shrunk(copy_mean)
    ch, cw = copy_s.shape
    oh, ow = out_s.shape
    # Each attempt: (picture given to SIFT, 3x3 map from that picture's pixels to copy_s pixels).
    # The restretch compares the picture's proportions, not the frame's: a letterboxed copy's
    # frame has the canvas's.
    bw, bh = _picture_size(copy_s)
    stretch = (ow / bw, oh / bh)
    attempts = []
    for mirror in (False, True):
        flip = np.array([[-1, 0, cw - 1], [0, 1, 0], [0, 0, 1]], np.float64) if mirror else np.eye(3)
        base = copy_s[:, ::-1] if mirror else copy_s
        attempts.append((np.ascontiguousarray(base), flip))
        ratio = stretch[0] / stretch[1]      # the copy's picture made as wide, for its height, as the output
        if abs(math.log(ratio)) > 0.15:
            resized = cv2.resize(base, (max(8, round(cw * ratio)), ch), interpolation=cv2.INTER_LINEAR)
            attempts.append((resized, flip @ np.diag([1 / ratio, 1, 1])))
    best = None
    for img, to_copy in attempts:
        found = _sift_affine(out_s, img)
        if found is None:
            continue
        mask = _picture_mask(img)
        ransac = found[0].astype(np.float32)
        ecc = _ecc(out_s, img, ransac, mask, eps=1e-5)
        # ECC can drift (bars, little texture): the better of it and RANSAC's estimate
        corr, matrix = max(((_aligned_correlation(img, mask, m, out_s), m) for m in (ecc, ransac)),
                           key=lambda t: t[0])
        if best is None or corr > best[0] + 1e-3:
            best = (corr, to_copy @ np.vstack([matrix, [0, 0, 1]]).astype(np.float64))
        if corr > 0.98:
            break
    if best is None:
        return None
    corr, shrunk_map = best
    # Full-size pixels: output px -> shrunk output -> shrunk copy -> copy px.
    full = np.diag([1 / k_copy, 1 / k_copy, 1]) @ shrunk_map @ np.diag([k_out, k_out, 1])
    full = _refined(copy_mean, output_mean, full)
    _, valid = _warp_to_output(np.ones(copy_mean.shape, np.float32), full[:2], output_mean.shape)
    lin = full[:2, :2]
    mirrored = bool(np.linalg.det(lin) < 0)
    unflipped = lin @ np.diag([-1.0, 1.0]) if mirrored else lin
    sx, sy = float(np.linalg.norm(lin[:, 0])), float(np.linalg.norm(lin[:, 1]))
    rot = math.degrees(math.atan2(unflipped[1, 0], unflipped[0, 0]))
    return Alignment(full[:2], mirrored, corr, float(valid.mean()), (sx, sy), rot)


def _picture_mask(img: np.ndarray) -> np.ndarray:
    """1 on a copy's picture, 0 on its black bars and corners (eroded: no edge pixels)."""
    return fingerprint.picture_mask(img, BAR_LEVEL, erode=9).astype(np.uint8)


def _ecc(template: np.ndarray, img: np.ndarray, start: np.ndarray, mask: np.ndarray, *, eps: float) -> np.ndarray:
    """ECC's affine map (template pixel -> img pixel) from `start`, over img's picture only;
    `start` when it does not converge."""
    if mask.sum() < 1024:
        return start
    try:
        _, m = cv2.findTransformECC(cv2.GaussianBlur(template.astype(np.float32), (0, 0), 1.0),
                                    cv2.GaussianBlur(img.astype(np.float32), (0, 0), 1.0), start.astype(np.float32),
                                    cv2.MOTION_AFFINE, (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, eps),
                                    mask, 5)
    except cv2.error:
        return start
    return m


def _aligned_correlation(img: np.ndarray, mask: np.ndarray, matrix: np.ndarray, template: np.ndarray) -> float:
    """Correlation of `img` mapped onto `template` with the other, over the picture both show."""
    warped, valid = _warp_to_output(img, matrix, template.shape)
    picture, _ = _warp_to_output(mask.astype(np.float32), matrix, template.shape)
    return _correlation(cv2.GaussianBlur(warped, (0, 0), 1.0), cv2.GaussianBlur(template, (0, 0), 1.0),
                        valid * (picture > 0.99))


def _refined(copy_mean: np.ndarray, output_mean: np.ndarray, full: np.ndarray) -> np.ndarray:
    """The map refined by ECC at (up to) full size over the copy's own picture only: black
    bars and what lies outside the frame are masked out, since a letterboxed or pillarboxed
    copy's bars otherwise pull the estimate off by pixels, which is all a chip is. Kept
    only when the aligned pictures correlate at least as well as before (over the same mask)."""
    out_s, k_out = _shrunk(output_mean, REFINE_SIDE)
    copy_s, k_copy = _shrunk(copy_mean, REFINE_SIDE)
    to_small, to_full = np.diag([k_copy, k_copy, 1.0]), np.diag([1 / k_out, 1 / k_out, 1.0])
    mask = _picture_mask(copy_s)
    start = (to_small @ full @ to_full)[:2].astype(np.float32)
    m = _ecc(out_s, copy_s, start, mask, eps=1e-6)
    if m is start or _aligned_correlation(copy_s, mask, m, out_s) < _aligned_correlation(copy_s, mask, start, out_s):
        return full
    return np.linalg.inv(to_small) @ np.vstack([m, [0, 0, 1]]).astype(np.float64) @ np.linalg.inv(to_full)


@dataclass(frozen=True)
class InformedReading:
    registry_id: int
    found: bool
    statistic: float          # normalised correlation of the soft bits with the candidate's codeword
    threshold: float
    bit_errors: int
    sync_z: float
    host_removed: bool = False  # the unmarked picture was subtracted first (mark_residual)

    @property
    def payload(self) -> str:
        return payload_hex(self.registry_id)


HOST_BLURS = (0.0, 0.8, 1.6)  # output pixels: how much more the copy's chain smoothed than the resampling
# High-pass widths (working pixels) tried once the picture is out: with the picture gone the
# high-pass only throws away the mark's low frequencies, all that a repost of a repost keeps
# (two generations at CRF 32 with a resize to 52-59 %: statistic 4.3-6.5 at 1.5, 7.6-8.1 at
# 12); where the picture is not quite out (a padded, recoloured copy) the narrow one is best.
# The one with the strongest sync correlation is read (payload-blind).
INFORMED_HP_SIGMAS = (1.5, 3.0, 6.0, 12.0)


def host_in_copy(host: np.ndarray, alignment: Alignment, copy_shape) -> np.ndarray:
    """The unmarked picture as the copy shows it, on the output's grid: taken to the
    copy's geometry (smoothed first where the copy is smaller, as a resize does) and
    resampled back exactly as the copy is."""
    scale = math.sqrt(abs(float(np.linalg.det(alignment.matrix[:, :2]))))
    img = host.astype(np.float32)
    if scale < 0.95:
        img = cv2.GaussianBlur(img, (0, 0), 0.5 * math.sqrt(1 / scale ** 2 - 1))
    ch, cw = copy_shape
    in_copy = cv2.warpAffine(img, alignment.matrix, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return _warp_to_output(in_copy, alignment.matrix, host.shape)[0]


def _without_host(copy_on_grid: np.ndarray, host_on_grid: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The copy minus the picture: the host's tone curve fitted (quadratic: brightness,
    contrast, gamma) and its extra smoothing chosen from HOST_BLURS, both by least squares
    over the covered area. Payload-blind (the mark is a small part of the energy), so the
    choice favours no candidate and the false-positive model is unchanged."""
    v = valid > 0.99
    if v.sum() < 64:
        return copy_on_grid * valid
    y = copy_on_grid[v].astype(np.float64)
    best = None
    for sigma in HOST_BLURS:
        hb = cv2.GaussianBlur(host_on_grid, (0, 0), sigma) if sigma else host_on_grid
        x = hb[v].astype(np.float64) / 255.0
        basis = np.stack([x * x, x, np.ones_like(x)], 1)
        coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
        energy = float(np.mean((y - basis @ coef) ** 2))
        if best is None or energy < best[0]:
            best = (energy, hb, coef)
    _, hb, (a, b, c) = best
    x = hb / np.float32(255.0)
    return (copy_on_grid - (a * x * x + b * x + c)).astype(np.float32) * valid


def informed_reading(copy: Pooled, alignment: Alignment, output_shape, registry_id: int,
                     host: np.ndarray | None = None) -> InformedReading:
    """Resample the copy's pooled luma onto the output's pixel grid and test the
    candidate's payload there. With `host` (the output's unmarked pooled luma,
    mark_residual.host_of) the picture is subtracted first: what is left is the mark and
    the copy's compression noise, so far less mark is needed (a repost of a repost), and
    the high-pass is chosen among INFORMED_HP_SIGMAS by the sync correlation."""
    h, w = output_shape
    total, valid = _warp_to_output(copy.total, alignment.matrix, (h, w))
    removed = host is not None and host.shape == (h, w)
    if removed:
        total = _without_host(total / max(1, copy.frames), host_in_copy(host, alignment, copy.total.shape), valid)
    chip_scale = VideoWatermarker.embed_scale(h, w) / CHIP
    widths = {"hp_sigmas": INFORMED_HP_SIGMAS} if removed else {}   # with the picture in, the decoder's own
    soft, sync_z = soft_bits_at(total, chip_scale=chip_scale, valid=valid, **widths)
    code = 2.0 * encode_payload(registry_id) - 1.0
    norm = float(np.linalg.norm(soft))
    stat = float(code @ soft / norm) if norm > 0 else 0.0
    errors = int(np.sum((soft > 0) != (code > 0)))
    return InformedReading(registry_id, stat >= INFORMED_THRESHOLD, stat, INFORMED_THRESHOLD, errors, sync_z,
                           removed)


def p_false_payload(candidates: int = MAX_CANDIDATES, threshold: float = INFORMED_THRESHOLD) -> float:
    """Union (Hoeffding) bound on a false informed detection per copy."""
    return candidates * math.exp(-threshold ** 2 / 2)


__all__ = ["Alignment", "InformedReading", "Pooled", "align", "host_in_copy", "informed_reading", "pooled_luma",
           "pooled_output", "p_false_payload", "INFORMED_THRESHOLD", "MAX_CANDIDATES", "SAME_CONTENT", "CODED_BITS"]
