"""The figures themselves, from a `FaceTrack` (and the voice for sync)."""
from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

from ..face import face_embedding, head_pose
from ..voice import FeatureExtractor, silent_stretches
from .tracking import FaceTrack, eye_aspect_ratio

STABLE = [27, 28, 29, 30, 31, 35, 36, 39, 42, 45]   # nose and eye corners: move only with the head


def _iod(lm: np.ndarray) -> np.ndarray:
    """Inter-ocular distance (outer eye corners) per frame: the face's scale."""
    return np.linalg.norm(lm[..., 45, :] - lm[..., 36, :], axis=-1)


def mouth_opening(track: FaceTrack) -> np.ndarray:
    """Inner-lip gap over inter-ocular distance, per measured frame (NaN: no face)."""
    lm = track.landmarks
    gap = (lm[:, [65, 66, 67], 1] - lm[:, [63, 62, 61], 1]).mean(axis=1)
    return gap / _iod(lm)


def eye_openness(track: FaceTrack) -> np.ndarray:
    """Eye aspect ratio (lid gap over eye width, both eyes), per measured frame."""
    return eye_aspect_ratio(track.landmarks)


def _fill(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64).copy()
    bad = ~np.isfinite(x)
    if bad.all():
        return np.zeros_like(x)
    if bad.any():
        idx = np.arange(len(x))
        x[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    return x


def voice_per_sample(audio_blocks, sample_rate: int, track: FaceTrack):
    """Voice features at the video's frame rate, then taken at the measured frames."""
    fps = int(round(track.fps))
    ex = FeatureExtractor(sample_rate, fps)
    for b in audio_blocks:
        ex.feed(b.mean(axis=0) if b.ndim == 2 else b)
    f = ex.finish()
    idx = np.clip(np.round(track.times * fps).astype(int), 0, len(f) - 1)
    return f, idx


def audio_mouth_sync(opening: np.ndarray, loudness_db: np.ndarray, sample_fps: float,
                     max_lag_s: float = 0.4) -> dict:
    """Correlation of mouth opening with voice loudness at the best lag. A positive lag
    means the mouth moves after the voice."""
    m, a = _fill(opening), _fill(loudness_db)
    a = np.maximum(a, np.percentile(a, 97) - 45)      # no credit for the noise floor's wiggles
    best, best_lag = -2.0, 0
    k = int(round(max_lag_s * sample_fps))
    n = len(m)
    for lag in range(-k, k + 1):
        if lag >= 0:
            x, y = m[lag:], a[:n - lag]
        else:
            x, y = m[:n + lag], a[-lag:]
        if len(x) < 8 or x.std() < 1e-9 or y.std() < 1e-9:
            continue
        r = float(np.corrcoef(x, y)[0, 1])
        if r > best:
            best, best_lag = r, lag
    return {"correlation": round(best, 3), "lag_ms": round(1000.0 * best_lag / sample_fps, 1)}


def mouth_at_rest(opening: np.ndarray, voiced: np.ndarray, sample_fps: float, *, min_s: float = 0.2,
                  edge_s: float = 0.08) -> dict:
    """Share of silent stretches longer than `min_s` in which the mouth is at rest:
    its median opening, away from the stretch's edges (coarticulation), within a
    small margin of the clip's closed-mouth level."""
    m = _fill(opening)
    rest = float(np.percentile(m, 10))
    margin = 0.03                                    # of the inter-ocular distance
    edge = int(np.ceil(edge_s * sample_fps))
    stretches = silent_stretches(voiced, sample_fps, min_s)
    ok = 0
    for s, e in stretches:
        inner = m[s + edge:max(e - edge, s + edge + 1)]
        ok += bool(np.median(inner) <= rest + margin)
    return {"silent_stretches": len(stretches), "at_rest": ok,
            "share": round(ok / len(stretches), 3) if stretches else None}


BLINK_DEPTH = 0.15        # a blink narrows the eye by at least this share of its open width ...
BLINK_NOISE = 3.0         # ... and by this many median absolute deviations of the clip's own trembling
BLINK_BASELINE_S = 1.0    # the open eye's width: running median over this many seconds each side
BLINK_MIN_S = 0.11        # a dip shorter than this is the landmarks' trembling (when measured at >= 18 Hz)
BLINK_MAX_S = 0.6         # longer is the eyes shut, not a blink
BLINK_GAP_S = 0.1         # two dips this close are one blink
BLINK_SHOULDER_S = 0.3    # the eye is open again within this long on both sides
BLINK_SMOOTH_S = 0.12     # eyes measured at >= 25 Hz are averaged over this long (3 frames) first


def blinks_in(ear: np.ndarray, fps: float) -> list[tuple[int, int]]:
    """Blinks as (first, last) sample: dips of the eye aspect ratio under its running
    median (the open eye, which a smile or a look down narrows for seconds at a time)
    by BLINK_DEPTH of it and by BLINK_NOISE median absolute deviations, lasting
    BLINK_MIN_S to BLINK_MAX_S, the eye open again on both sides (it is as deep
    below its shoulders). Against the running median, not the clip's: a
    narrow-eyed smile's blink (open 0.26, shut 0.19 in dlib's eyes) is a clear dip
    locally but above a global threshold, and a squint is not a blink."""
    e = _fill(np.asarray(ear, np.float64))
    if len(e) < 3 or not np.any(e > 0):
        return []
    taps = int(round(BLINK_SMOOTH_S * fps))
    taps -= 1 - taps % 2      # odd: 3 at 25-30 Hz, none at 12.5 Hz
    if taps > 1:              # the landmarks tremble frame to frame; a blink is shut for several frames
        e = uniform_filter1d(e, taps, mode="nearest")
    w = max(1, int(round(BLINK_BASELINE_S * fps)))
    base = median_filter(e, size=2 * w + 1, mode="nearest")
    depth = 1.0 - e / np.maximum(base, 1e-6)
    mad = float(np.median(np.abs(depth - np.median(depth))))
    threshold = max(BLINK_DEPTH, BLINK_NOISE * mad)
    closed = depth > threshold
    starts = np.flatnonzero(closed & ~np.r_[False, closed[:-1]])
    ends = np.flatnonzero(closed & ~np.r_[closed[1:], False])
    merged: list[list[int]] = []
    for a, b in zip(starts, ends):
        if merged and (a - merged[-1][1] - 1) / fps <= BLINK_GAP_S:
            merged[-1][1] = int(b)
        else:
            merged.append([int(a), int(b)])
    shortest = max(1, int(round(BLINK_MIN_S * fps))) if fps >= 18 else 1
    side = max(1, int(round(BLINK_SHOULDER_S * fps)))
    out = []
    for a, b in merged:
        if not shortest <= b - a + 1 <= BLINK_MAX_S * fps + 1:
            continue
        # the eye opens again on both sides: the running median lags a squint's edges
        left, right = e[max(0, a - side):a], e[b + 1:b + 1 + side]
        shoulder = min(left.max() if len(left) else np.inf, right.max() if len(right) else np.inf)
        if np.isfinite(shoulder) and 1.0 - e[a:b + 1].min() / max(shoulder, 1e-6) <= threshold:
            continue
        out.append((a, b))
    return out


def blink_rate(track: FaceTrack) -> dict:
    """Blinks per minute (`blinks_in`), on every frame's eyes when the track has them."""
    if track.eyes is not None:
        ear, fps = track.eyes, track.fps
    else:
        ear, fps = eye_openness(track), track.sample_fps
    found = blinks_in(ear, fps)
    minutes = len(ear) / fps / 60.0 if fps else 0.0
    return {"blinks": len(found), "per_minute": round(len(found) / minutes, 1) if minutes else 0.0,
            "measured_hz": round(float(fps), 2)}


def head_motion_range(track: FaceTrack) -> dict:
    """Spread (5th to 95th percentile, degrees) of yaw, pitch and roll from solvePnP."""
    poses = np.array([head_pose(lm) for lm, ok in zip(track.landmarks, track.found) if ok])
    if len(poses) < 2:
        return {"yaw": 0.0, "pitch": 0.0, "roll": 0.0}
    r = np.percentile(poses, 95, axis=0) - np.percentile(poses, 5, axis=0)
    return {"yaw": round(float(r[0]), 2), "pitch": round(float(r[1]), 2), "roll": round(float(r[2]), 2)}


def landmark_jitter(track: FaceTrack) -> np.ndarray:
    """Per measured frame: mean size of the second difference of the stable landmarks
    (nose, eye corners), over the inter-ocular distance. Smooth motion gives ~0;
    frame-to-frame trembling does not."""
    lm = track.landmarks[:, STABLE]
    acc = lm[2:] - 2 * lm[1:-1] + lm[:-2]
    j = np.linalg.norm(acc, axis=-1).mean(axis=1) / _iod(track.landmarks[1:-1])
    return j[np.isfinite(j)]


def identity_distance(reference_rgb: np.ndarray, reference_face, track: FaceTrack) -> dict:
    """dlib embedding distance between the reference photo and sampled frames."""
    ref = face_embedding(reference_rgb, reference_face)
    d = [float(np.linalg.norm(face_embedding(rgb, fa) - ref)) for rgb, fa in track.samples]
    if not d:
        return {"mean": None, "max": None}
    return {"mean": round(float(np.mean(d)), 3), "max": round(float(np.max(d)), 3)}


def summarise_video(track: FaceTrack, voice=None) -> dict:
    """Every figure that needs no reference photo. `voice` is (features, sample index)."""
    out = {"frames_measured": int(len(track.found)), "face_found_share": round(float(track.found.mean()), 4)
           if len(track.found) else 0.0}
    jit = landmark_jitter(track)
    out["jitter_p50"] = round(float(np.percentile(jit, 50)), 5) if len(jit) else None
    out["jitter_p99"] = round(float(np.percentile(jit, 99)), 5) if len(jit) else None
    out["blinks"] = blink_rate(track)
    out["head_range_deg"] = head_motion_range(track)
    if voice is not None:
        f, idx = voice
        opening = mouth_opening(track)
        out["sync"] = audio_mouth_sync(opening, f.level_db[idx], track.sample_fps)
        out["rest"] = mouth_at_rest(opening, f.voiced[idx], track.sample_fps)
    return out


INTERIOR_FEATURES = ("lightness", "a", "b", "lightness_spread", "bright_share", "dark_share", "texture")


def mouth_interior_stats(rgb: np.ndarray, lm: np.ndarray) -> np.ndarray | None:
    """Colour and texture statistics of the open mouth (inside the inner lips) of one
    frame, relative to the face's own light (the nose's skin) so that photos lit
    differently compare: mean L*, a*, b*, the spread of L*, the share of bright
    (teeth-like) and of dark (cavity) pixels, and the mean L* gradient (texture).
    None when the mouth is too closed to measure (under 30 pixels inside)."""
    pts = np.asarray(lm, np.float64)
    h, w = rgb.shape[:2]
    x0, y0 = max(int(pts[60:68, 0].min()), 0), max(int(pts[60:68, 1].min()), 0)
    x1, y1 = min(int(pts[60:68, 0].max()) + 2, w), min(int(pts[60:68, 1].max()) + 2, h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [np.round(pts[60:68] - [x0, y0]).astype(np.int32)], 1)
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8)) > 0        # off the lips' edge
    if inside.sum() < 30:
        return None
    lab = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(np.float32)
    sx0, sx1 = int(min(pts[31, 0], pts[35, 0])), int(max(pts[31, 0], pts[35, 0])) + 1
    sy0, sy1 = int(pts[28, 1]), int(pts[33, 1]) + 1
    nose = rgb[max(sy0, 0):max(sy1, sy0 + 1), max(sx0, 0):max(sx1, sx0 + 1)]
    skin_l = float(np.median(cv2.cvtColor(nose, cv2.COLOR_RGB2LAB)[..., 0])) if nose.size else 160.0
    skin_l = max(skin_l, 20.0)
    L = lab[..., 0]
    gx, gy = cv2.Sobel(L, cv2.CV_32F, 1, 0), cv2.Sobel(L, cv2.CV_32F, 0, 1)
    grad = np.sqrt(gx * gx + gy * gy)
    m = inside
    return np.array([L[m].mean() / skin_l, lab[..., 1][m].mean() - 128, lab[..., 2][m].mean() - 128,
                     L[m].std() / skin_l, float(np.mean(L[m] > 0.85 * skin_l)), float(np.mean(L[m] < 0.3 * skin_l)),
                     grad[m].mean() / skin_l], np.float64)


def interior_distance(generated: list[np.ndarray], real: list[np.ndarray], k: int = 5) -> float | None:
    """Mean distance of generated open mouths' statistics to their `k` nearest real open
    mouths, each statistic in units of the real mouths' spread (0: like real mouths)."""
    if not generated or not real:
        return None
    r = np.stack(real)
    mu, sd = r.mean(axis=0), r.std(axis=0) + 1e-6
    rz = (r - mu) / sd
    d = []
    for g in generated:
        dist = np.sort(np.linalg.norm(rz - (g - mu) / sd, axis=1))
        d.append(float(dist[:min(k, len(dist))].mean()))
    return round(float(np.mean(d)), 3)


def interior_energy_distance(generated: list[np.ndarray], real: list[np.ndarray]) -> float | None:
    """Energy distance between the generated and the real open mouths' statistics (each
    in units of the real mouths' spread; unbiased, so two samples of the same population
    score 0 on average whatever their sizes). Unlike `interior_distance` it compares the
    two sets as distributions: mouths that were all the real mouths' average would score
    high here, not low."""
    if len(generated) < 2 or len(real) < 2:
        return None
    r = np.stack(real)
    mu, sd = r.mean(axis=0), r.std(axis=0) + 1e-6
    x, y = (np.stack(generated) - mu) / sd, (r - mu) / sd

    def mean_dist(a, b, same=False):
        d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
        return float((d.sum() - np.trace(d)) / (d.size - len(a))) if same else float(d.mean())
    return round(2 * mean_dist(x, y) - mean_dist(x, x, True) - mean_dist(y, y, True), 4)
