"""Per-window features (about 2 s each), cheap on a CPU.

Each group looks for a trace that a warped still photo leaves and a camera does not:
- spectral: azimuthal power spectrum of the face and of the background beside it;
- noise: high-pass residuals and their frame-to-frame correlation (a camera's sensor
  noise is new in every frame; a warped photo carries the same texture along);
- stillness: how much the background changes between frames;
- warp: smoothness of the optical flow over the face and how the residual energy
  breathes with motion (bilinear resampling blurs as it moves);
- kinematics: lip speed and jerk, blink shape, head-pose dynamics, non-rigid jitter;
- coupling: mouth opening against the voice's loudness, at small lags;
- mouth interior: texture and darkness of the open mouth.
Missing evidence (no face, no sound) is NaN; the classifier handles it.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .landmarks import track
from .video import ANALYSIS_FPS, Samples

FEATURE_VERSION = "vt-det-features-2"
WINDOW_SECONDS = 2.0
STRIDE_SECONDS = 1.0
SPEC_BINS = 12
FACE_PATCH = 64
FLOW_SIZE = 96

LIPS_INNER = list(range(60, 68))
LEFT_EYE, RIGHT_EYE = list(range(36, 42)), list(range(42, 48))


def _names() -> list[str]:
    n = []
    for region in ("face", "bg"):
        n += [f"spec_{region}_b{i}" for i in range(4, SPEC_BINS)] + [f"spec_{region}_slope", f"spec_{region}_hf"]
    n += ["spec_face_bg_hf_ratio"]
    n += ["res_std_face", "res_std_bg", "res_face_bg_ratio", "res_corr1_bg", "res_corr1_face", "res_corr5_bg",
          "res_corr1_frame", "res_energy_cv_face", "res_energy_cv_bg"]
    n += ["bg_diff_mean", "bg_diff_p90", "bg_still_frac", "bg_diff_hp_ratio", "bg_temporal_std",
          "face_diff_mean", "bg_face_diff_ratio"]
    n += ["flow_face_mag", "flow_face_rough", "flow_affine_r2", "flow_bg_mag", "flow_bg_face_ratio",
          "flow_mag_jerk"]
    n += ["lip_open_mean", "lip_open_std", "lip_speed_std", "lip_accel_std", "lip_jerk_std", "lip_jerk_ratio",
          "lip_width_std", "lip_open_width_corr",
          "ear_mean", "ear_std", "ear_min_ratio", "ear_asym", "blink_frac",
          "roll_std", "yaw_std", "pitch_std", "pose_speed_std", "pose_jerk_ratio", "pose_hf_frac",
          "nose_nonrigid", "jaw_nonrigid", "brow_nonrigid", "mouth_head_ratio", "face_found_frac", "face_scale"]
    n += ["av_corr0", "av_corr_max", "av_lag_best", "av_corr_speed", "av_silent_open", "audio_dyn"]
    n += ["mouth_int_mean", "mouth_int_std", "mouth_int_lap", "mouth_dark_frac", "mouth_int_tstd"]
    # Cues meant to carry over to other generators (features 2).
    n += ["ncons_energy_corr", "ncons_tcorr_diff", "ncons_tdiff_ratio"]
    n += ["blend_res_ratio", "blend_contrast", "blend_flicker"]
    n += ["parallax_corr", "parallax_ratio"]
    n += ["mouth_hp_tcorr", "ear_speed_max", "av_speed_lag"]
    return n


FEATURE_NAMES = _names()
EXTRA_NAMES = FEATURE_NAMES[FEATURE_NAMES.index("ncons_energy_corr"):]


# (group, name prefixes, name suffixes, whole names), first match wins; anything else is face tracking.
_GROUP_RULES = (
    ("noise_consistency", ("ncons_",), (), ()),
    ("boundary", ("blend_",), (), ()),
    ("parallax", ("parallax_",), (), ()),
    ("blinks", ("ear_", "blink_"), (), ()),
    ("head_motion", ("roll_", "yaw_", "pitch_", "pose_"), (), ("mouth_head_ratio",)),
    ("lip_motion", ("lip_",), (), ()),
    ("face_shape", (), ("_nonrigid",), ()),
    ("spectral", ("spec_",), (), ()),
    ("noise_residual", ("res_",), (), ()),
    ("stillness", ("bg_", "face_diff"), (), ()),
    ("warp", ("flow_",), (), ()),
    ("audio_mouth", ("av_", "audio_"), (), ()),
    ("mouth_interior", ("mouth_int", "mouth_hp"), (), ("mouth_dark_frac",)),
)


def feature_group(name: str) -> str:
    """The family of cues a feature belongs to (for ablations and explanations)."""
    for group, prefixes, suffixes, names in _GROUP_RULES:
        if name.startswith(prefixes) or name.endswith(suffixes) or name in names:
            return group
    return "face_tracking"


FEATURE_GROUPS = sorted({feature_group(n) for n in FEATURE_NAMES})


@dataclass
class ClipFeatures:
    X: np.ndarray          # (windows, features)
    starts: np.ndarray     # window start times (s)
    duration: float


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    d = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / d) if d > 1e-9 else np.nan


@lru_cache(maxsize=8)
def _spectrum_layout(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hann window, ring index per (shifted) frequency and ring sizes for an h x w patch."""
    win = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    yy, xx = np.indices((h, w))
    r = np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2))
    ring = np.fft.ifftshift(np.minimum((r * SPEC_BINS).astype(int), SPEC_BINS)).ravel()
    cnt = np.bincount(ring, minlength=SPEC_BINS + 1)[:SPEC_BINS]
    return win, ring, np.maximum(cnt, 1)


def _radial_profile(patch: np.ndarray) -> np.ndarray:
    """Azimuthally averaged log power spectrum of a square patch, in SPEC_BINS rings."""
    p = patch.astype(np.float32)
    p = p - p.mean()
    win, ring, cnt = _spectrum_layout(*p.shape)
    f = np.abs(np.fft.fft2(p * win)) ** 2
    tot = np.bincount(ring, weights=f.ravel(), minlength=SPEC_BINS + 1)[:SPEC_BINS]
    return np.log10(tot / cnt + 1e-6)


def _spec_feats(patches: list[np.ndarray]) -> list[float]:
    if not patches:
        return [np.nan] * (SPEC_BINS - 4 + 2)
    prof = np.mean([_radial_profile(p) for p in patches], axis=0)
    rel = prof - prof[1]
    x = np.log10(np.arange(2, SPEC_BINS) / SPEC_BINS)
    slope = float(np.polyfit(x, prof[2:], 1)[0])
    hf = float(prof[-3:].mean() - prof[2:5].mean())
    return list(rel[4:]) + [slope, hf]


def _face_box(lm: np.ndarray, shape) -> tuple[int, int, int, int]:
    x0, y0 = lm.min(0)
    x1, y1 = lm.max(0)
    h = y1 - y0
    y0 -= 0.35 * h  # the forehead above the brows
    H, W = shape
    return (int(max(0, x0)), int(max(0, y0)), int(min(W, x1)), int(min(H, y1)))


def _bg_mask(box, shape) -> np.ndarray:
    H, W = shape
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    m = np.ones((H, W), bool)
    m[int(max(0, y0 - 0.25 * bh)):, int(max(0, x0 - 0.35 * bw)):int(min(W, x1 + 0.35 * bw))] = False
    m[int(min(H, y1 + 0.2 * bh)):, :] = False   # shoulders and torso move with the head
    return m


def _bg_patches(frame: np.ndarray, box) -> list[np.ndarray]:
    H, W = frame.shape
    x0, y0, x1, y1 = box
    bw = x1 - x0
    out = []
    left = frame[max(0, y0):y1, :max(0, int(x0 - 0.35 * bw))]
    right = frame[max(0, y0):y1, min(W, int(x1 + 0.35 * bw)):]
    top = frame[:max(0, int(y0 - 0.1 * bw)), :]
    for strip in (left, right, top):
        if strip.shape[0] >= 24 and strip.shape[1] >= 24:
            s = min(strip.shape[0], strip.shape[1])
            out.append(cv2.resize(strip[:s, :s], (32, 32), interpolation=cv2.INTER_AREA))
    return out


def _pose(lm: np.ndarray) -> tuple[float, float, float, float]:
    le, re = lm[LEFT_EYE].mean(0), lm[RIGHT_EYE].mean(0)
    iod = float(np.linalg.norm(re - le)) + 1e-6
    roll = float(np.degrees(np.arctan2(re[1] - le[1], re[0] - le[0])))
    jaw_w = float(lm[16, 0] - lm[0, 0]) + 1e-6
    yaw = float((lm[30, 0] - (lm[0, 0] + lm[16, 0]) / 2) / jaw_w)
    eye_mid = (le + re) / 2
    pitch = float((lm[30, 1] - eye_mid[1]) / (lm[8, 1] - eye_mid[1] + 1e-6))
    return roll, yaw, pitch, iod


def _ear(pts: np.ndarray) -> float:
    a = np.linalg.norm(pts[1] - pts[5]) + np.linalg.norm(pts[2] - pts[4])
    return float(a / (2 * np.linalg.norm(pts[0] - pts[3]) + 1e-6))


def _nonrigid(lms: np.ndarray, idx: list[int], iod: float) -> float:
    """Mean residual of a landmark group after a similarity (Procrustes) alignment to its window mean."""
    if not len(lms):
        return np.nan
    pts = lms[:, idx, :].astype(np.float64)
    ref = pts.mean(0)
    rc = ref - ref.mean(0)
    pc = pts - pts.mean(1, keepdims=True)
    u, sv, vt = np.linalg.svd(pc.transpose(0, 2, 1) @ rc)
    scale = sv.sum(1) / ((pc ** 2).sum((1, 2)) + 1e-9)
    q = scale[:, None, None] * pc @ (u @ vt)
    return float(np.linalg.norm(q - rc, axis=2).mean(1).mean() / iod)


class _Jaw:
    """Jaw-line samples of one frame (see `_boundary`), computed once per frame."""
    __slots__ = ("ratio", "contrast", "on", "inn")

    def __init__(self, f: np.ndarray, r: np.ndarray, lm: np.ndarray):
        H, W = f.shape
        jaw = lm[0:17].astype(np.float64)
        nv = jaw - lm.mean(0)
        nv /= np.linalg.norm(nv, axis=1, keepdims=True) + 1e-6
        iod = np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0)) + 1e-6
        k = max(2.0, 0.12 * iod)

        def at(pts):
            x = np.clip(np.round(pts[:, 0]).astype(int), 0, W - 1)
            y = np.clip(np.round(pts[:, 1]).astype(int), 0, H - 1)
            return y, x
        yb, xb = at(jaw)
        yi, xi = at(jaw - k * nv)
        yo, xo = at(jaw + k * nv)
        self.ratio = r[yb, xb].mean() / (0.5 * (r[yi, xi].mean() + r[yo, xo].mean()) + 1e-3)
        self.contrast = np.abs(f[yo, xo] - f[yi, xi]).mean() / (f[yi, xi].mean() + 1.0)
        self.on, self.inn = f[yb, xb], f[yi, xi]


def _boundary(jaws: list[_Jaw]) -> dict:
    """Along the jaw line: grain on the edge against just inside and outside it, the step in
    brightness across it, and how much the edge flickers from frame to frame compared with
    the cheek inside it (a face blended into a frame leaves a seam that lives its own life)."""
    out = {}
    if jaws:
        out["blend_res_ratio"] = float(np.mean([j.ratio for j in jaws]))
        out["blend_contrast"] = float(np.mean([j.contrast for j in jaws]))
    if len(jaws) >= 4:
        on_ = np.diff(np.array([j.on for j in jaws]), axis=0)
        in_ = np.diff(np.array([j.inn for j in jaws]), axis=0)
        out["blend_flicker"] = float(np.abs(on_).mean() / (np.abs(in_).mean() + 0.5))
    return out


def _mouth_crop(f: np.ndarray, lm: np.ndarray) -> np.ndarray | None:
    """The mouth's fine texture on a fixed 16x8 grid, None when too small or outside the frame."""
    pts = lm[48:68]
    H, W = f.shape
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int), (W, H))
    if x1 - x0 < 8 or y1 - y0 < 4:   # mouth too small, or (mostly) outside the frame
        return None
    c = cv2.resize(f[y0:y1, x0:x1], (16, 8), interpolation=cv2.INTER_AREA)
    return c - cv2.blur(c, (3, 3))


def _crops_tcorr(crops: list) -> float:
    cs = [_corr(a.ravel(), b.ravel()) for a, b in zip(crops[:-1], crops[1:]) if a is not None and b is not None]
    cs = [c for c in cs if np.isfinite(c)]
    return float(np.mean(cs)) if len(cs) >= 3 else np.nan


def mouth_texture_tcorr(f32: np.ndarray, lms: np.ndarray, good: np.ndarray) -> float:
    """How the fine texture inside the mouth (teeth, tongue) follows from frame to frame:
    the correlation of its high-pass between neighbouring frames, on a fixed 16x8 grid."""
    return _crops_tcorr([_mouth_crop(f32[i], lms[i]) for i in good])


def _std_diff(x: np.ndarray, k: int) -> float:
    return float(np.std(np.diff(x, n=k))) if len(x) > k + 1 else np.nan


def _row_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`_corr` of each row of a with the same row of b (NaN where either is flat)."""
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    d = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d > 1e-9, (a * b).sum(1) / d, np.nan)


def _nanmean(x: np.ndarray) -> float:
    return float(np.nanmean(x)) if len(x) else np.nan


class _PerFrame:
    """What windows share: each frame's jaw-line samples and mouth crop, and each pair's
    high-passed background change, computed once however many windows cover them."""

    def __init__(self, f32: np.ndarray, res: np.ndarray, lms: np.ndarray):
        self.f32, self.res, self.lms = f32, res, lms
        self._jaw: dict[int, _Jaw] = {}
        self._mouth: dict[int, np.ndarray | None] = {}
        self._hp: dict[int, np.ndarray] = {}

    def jaw(self, i: int) -> _Jaw:
        if i not in self._jaw:
            self._jaw[i] = _Jaw(self.f32[i], np.abs(self.res[i]), self.lms[i])
        return self._jaw[i]

    def mouth(self, i: int):
        if i not in self._mouth:
            self._mouth[i] = _mouth_crop(self.f32[i], self.lms[i])
        return self._mouth[i]

    def hp_diff(self, k: int) -> np.ndarray:
        """|high-pass of frame k+1 - frame k| (the frame difference less its blur)."""
        if k not in self._hp:
            dd = self.f32[k + 1] - self.f32[k]
            self._hp[k] = np.abs(dd - cv2.GaussianBlur(dd, (0, 0), 2.0))
        return self._hp[k]

    def forget_before(self, k: int):
        """Windows move forward: drop pairs no later window uses (bounded memory on long clips)."""
        for key in [j for j in self._hp if j < k]:
            del self._hp[key]


def _residuals(f32: np.ndarray) -> np.ndarray:
    """High-pass residual of every frame (the frame less its blur)."""
    res = np.empty_like(f32)
    for i in range(len(f32)):
        res[i] = f32[i] - cv2.GaussianBlur(f32[i], (0, 0), 1.0)
    return res


def _flow_stats(frames: np.ndarray, f32: np.ndarray, box, i: int) -> tuple | None:
    """Face optical flow from frame i to i+1 (magnitude, roughness, affine fit) and the
    background's mean change; None when the face box is too small."""
    n, H, W = frames.shape
    x0, y0, x1, y1 = box
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    a = cv2.resize(frames[i, y0:y1, x0:x1], (FLOW_SIZE, FLOW_SIZE), interpolation=cv2.INTER_AREA)
    b = cv2.resize(frames[i + 1, y0:y1, x0:x1], (FLOW_SIZE, FLOW_SIZE), interpolation=cv2.INTER_AREA)
    fl = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 2, 9, 2, 5, 1.1, 0)
    mag = np.hypot(fl[..., 0], fl[..., 1])
    lap = np.abs(cv2.Laplacian(fl[..., 0], cv2.CV_32F)) + np.abs(cv2.Laplacian(fl[..., 1], cv2.CV_32F))
    A, pinv = _affine_design()
    fs = fl[::4, ::4].reshape(-1, 2)
    resid = fs - A @ (pinv @ fs)
    var = fs.var(0).sum()
    r2 = 1 - resid.var(0).sum() / var if var > 1e-6 else np.nan
    bgm = _bg_mask(box, (H, W))
    bg = np.abs(f32[i + 1] - f32[i])[bgm].mean() if bgm.sum() > 200 else np.nan
    return mag.mean(), lap.mean() / (mag.mean() + 0.05), r2, bg, 0


@lru_cache(maxsize=1)
def _affine_design() -> tuple[np.ndarray, np.ndarray]:
    """Least-squares affine fit of the flow on a 4-pixel grid: the design matrix and its pseudo-inverse."""
    yy, xx = np.mgrid[0:FLOW_SIZE:4, 0:FLOW_SIZE:4]
    A = np.stack([xx.ravel(), yy.ravel(), np.ones(xx.size)], 1).astype(np.float32)
    return A, np.linalg.pinv(A)


def clip_features(samples: Samples) -> ClipFeatures:
    frames = samples.frames
    n, H, W = frames.shape
    f32 = frames.astype(np.float32)
    # Two threads: dlib follows the face while OpenCV (which releases the GIL) makes the
    # residuals, then the optical flow of the frame pairs is shared out between them.
    with ThreadPoolExecutor(max_workers=2) as pool:
        res_job = pool.submit(_residuals, f32)
        lms = track(frames)
        found = ~np.isnan(lms[:, 0, 0])

        # A face box per frame (the last one seen where the tracker lost the face).
        boxes = []
        last = None
        first = next((i for i in range(n) if found[i]), None)
        for i in range(n):
            if found[i]:
                last = _face_box(lms[i], (H, W))
            boxes.append(last if last is not None else
                         (_face_box(lms[first], (H, W)) if first is not None else
                          (W // 4, H // 6, 3 * W // 4, 5 * H // 6)))

        # Per-frame pair quantities (frame i with frame i+1).
        flow_stats = np.full((n, 5), np.nan, np.float32)
        for i, st in enumerate(pool.map(lambda i: _flow_stats(frames, f32, boxes[i], i), range(n - 1),
                                        chunksize=8)):
            if st is not None:
                flow_stats[i] = st
        res = res_job.result()

    per_win = int(round(WINDOW_SECONDS * ANALYSIS_FPS))
    stride = int(round(STRIDE_SECONDS * ANALYSIS_FPS))
    starts = list(range(0, max(1, n - per_win + 1), stride))
    if n - per_win > 0 and starts[-1] + per_win < n - stride // 2:
        starts.append(n - per_win)
    shared = _PerFrame(f32, res, lms)
    rows = []
    for s in starts:
        shared.forget_before(s)
        rows.append(_window(frames, f32, res, lms, found, boxes, flow_stats, samples.loudness_db, s,
                            min(n, s + per_win), shared))
    return ClipFeatures(np.asarray(rows, np.float32), samples.times[starts].astype(np.float32), samples.duration)


def _window(frames, f32, res, lms, found, boxes, flow_stats, loud, s, e, shared: _PerFrame) -> list[float]:
    n, H, W = frames.shape
    idx = np.arange(s, e)
    mid = boxes[(s + e) // 2]
    bgm = _bg_mask(mid, (H, W))
    x0, y0, x1, y1 = mid
    fm = np.zeros((H, W), bool)
    fm[y0:y1, x0:x1] = True
    has_bg = bgm.sum() > 200
    has_face = fm.sum() > 200 and found[idx].any()
    row: list[float] = []

    # Spectral: three frames per window.
    pick = idx[np.linspace(0, len(idx) - 1, 3).astype(int)]
    face_patches = []
    if has_face:
        for i in pick:
            bx0, by0, bx1, by1 = boxes[i]
            if bx1 - bx0 >= 16 and by1 - by0 >= 16:
                face_patches.append(cv2.resize(frames[i, by0:by1, bx0:bx1], (FACE_PATCH, FACE_PATCH),
                                               interpolation=cv2.INTER_AREA))
    bg_patches = [p for i in pick for p in _bg_patches(frames[i], boxes[i])]
    sf, sb = _spec_feats(face_patches), _spec_feats(bg_patches)
    row += sf + sb + [sf[-1] - sb[-1]]

    # Noise residuals and their correlation between frames; the face (a rectangle) and the
    # background pixels of every frame of the window, taken out once.
    rf = res[s:e]
    ff = f32[s:e]
    nw = len(idx)
    RF = rf[:, y0:y1, x0:x1].reshape(nw, -1) if has_face else None
    RB = rf[:, bgm] if has_bg else None
    std_face = float(RF.std()) if has_face else np.nan
    std_bg = float(RB.std()) if has_bg else np.nan
    c1_bg = _nanmean(_row_corr(RB[:-1], RB[1:])) if has_bg else np.nan
    c1_face = _nanmean(_row_corr(RF[:-1], RF[1:])) if has_face else np.nan
    c5_bg = (_nanmean(_row_corr(RB[0:nw - 5:2], RB[5:nw:2])) if has_bg and nw > 6 else np.nan)
    R2 = rf[:, ::2, ::2].reshape(nw, -1)
    c1_frame = _nanmean(_row_corr(R2[:-1], R2[1:]))
    # Row by row (not one reduction over axis 1): the same float32 sums as before, which matter
    # where a frozen background's energy changes only in its last digits.
    e_face = np.array([np.mean(r ** 2) for r in RF]) if has_face else None
    e_bg = np.array([np.mean(r ** 2) for r in RB]) if has_bg else None
    row += [std_face, std_bg, std_face / (std_bg + 1e-3) if has_face and has_bg else np.nan, c1_bg, c1_face, c5_bg,
            c1_frame, float(e_face.std() / (e_face.mean() + 1e-6)) if e_face is not None else np.nan,
            float(e_bg.std() / (e_bg.mean() + 1e-6)) if e_bg is not None else np.nan]
    extra: dict[str, float] = {}
    if has_face and has_bg:
        # A camera's grain and compression change over the whole frame together; a face made
        # or pasted separately has its own grain, fresh (or frozen) where the background's is not.
        extra["ncons_energy_corr"] = _corr(e_face, e_bg) if e_face.std() > 1e-9 and e_bg.std() > 1e-9 else np.nan
        extra["ncons_tcorr_diff"] = float(c1_face - c1_bg)
        extra["ncons_tdiff_ratio"] = float(np.abs(np.diff(RF, axis=0)).mean()
                                           / (np.abs(np.diff(RB, axis=0)).mean() + 1e-3))

    # Background stillness.
    if has_bg:
        FB = ff[:, bgm]
        dbg = np.abs(np.diff(FB, axis=0))
        hp_bg = np.concatenate([shared.hp_diff(k)[bgm] for k in range(s, e - 1)])
        hp_ratio = float(hp_bg.mean() / (dbg.mean() + 1e-3))
        row += [float(dbg.mean()), float(np.percentile(dbg, 90)), float((dbg < 0.5).mean()), hp_ratio,
                float(FB.std(0).mean())]
    else:
        row += [np.nan] * 5
    dface = float(np.abs(np.diff(ff[:, y0:y1, x0:x1], axis=0)).mean()) if has_face else np.nan
    row += [dface, row[-5] / (dface + 1e-3) if has_bg and has_face else np.nan]

    # Warp smoothness from the optical flow of the face.
    fsw = flow_stats[s:e - 1]
    mags = fsw[:, 0]
    ok = ~np.isnan(mags)
    if ok.sum() >= 3:
        m = mags[ok]
        row += [float(m.mean()), float(np.nanmean(fsw[ok, 1])), float(np.nanmean(fsw[ok, 2])),
                float(np.nanmean(fsw[ok, 3])), float(np.nanmean(fsw[ok, 3]) / (m.mean() + 1e-3)),
                _std_diff(m, 2) / (m.std() + 1e-3)]
    else:
        row += [np.nan] * 6

    # Landmark kinematics.
    good = idx[found[idx]]
    if len(good) >= max(6, 0.6 * len(idx)):
        L = lms[good]
        poses = np.array([_pose(p) for p in L])
        iod = float(np.median(poses[:, 3]))
        lip_open = np.linalg.norm(L[:, 62] - L[:, 66], axis=1) / iod
        lip_w = np.linalg.norm(L[:, 60] - L[:, 64], axis=1) / iod
        ear = np.array([(_ear(p[LEFT_EYE]) + _ear(p[RIGHT_EYE])) / 2 for p in L])
        ear_asym = np.array([abs(_ear(p[LEFT_EYE]) - _ear(p[RIGHT_EYE])) for p in L])
        sp = _std_diff(lip_open, 1)
        pose_v = np.diff(poses[:, :3] / np.array([10.0, 0.1, 0.1]), axis=0)
        ps = float(np.linalg.norm(pose_v, axis=1).std()) if len(pose_v) > 1 else np.nan
        pj = float(np.linalg.norm(np.diff(pose_v, n=2, axis=0), axis=1).mean()) if len(pose_v) > 3 else np.nan
        spec = np.abs(np.fft.rfft(poses[:, 1] - poses[:, 1].mean())) ** 2
        hf = float(spec[len(spec) // 2:].sum() / (spec[1:].sum() + 1e-9)) if len(spec) > 3 else np.nan
        head = float(np.linalg.norm(np.diff(L[:, 27:31].mean(1), axis=0), axis=1).mean() / iod)
        med_ear = np.median(ear) + 1e-6
        row += [float(lip_open.mean()), float(lip_open.std()), sp, _std_diff(lip_open, 2), _std_diff(lip_open, 3),
                _std_diff(lip_open, 3) / (sp + 1e-4), float(lip_w.std()),
                _corr(lip_open, lip_w) if lip_open.std() > 1e-6 and lip_w.std() > 1e-6 else np.nan,
                float(ear.mean()), float(ear.std()), float(ear.min() / med_ear), float(ear_asym.mean()),
                float((ear < 0.75 * med_ear).mean()),
                float(poses[:, 0].std()), float(poses[:, 1].std()), float(poses[:, 2].std()), ps,
                pj / (ps + 1e-4) if ps == ps and pj == pj else np.nan, hf,
                _nonrigid(L, list(range(27, 36)), 1.0) / iod, _nonrigid(L, list(range(0, 17)), 1.0) / iod,
                _nonrigid(L, list(range(17, 27)), 1.0) / iod, sp / (head + 1e-4), len(good) / len(idx), iod / W]
    else:
        lip_open = None
        row += [np.nan] * 23 + [len(good) / len(idx), np.nan]

    if lip_open is not None:
        extra.update(_boundary([shared.jaw(i) for i in good]))
        # Head motion against background motion: a moving camera moves both; a generated
        # head moves over a background that is frozen or drifts on its own.
        head_v = np.linalg.norm(np.diff(L[:, 27:36].mean(1), axis=0), axis=1) / iod
        bgd = flow_stats[good[:-1], 3]
        ok_p = np.isfinite(bgd) & (np.diff(good) == 1)
        if ok_p.sum() >= 5 and head_v[ok_p].std() > 1e-6 and bgd[ok_p].std() > 1e-6:
            extra["parallax_corr"] = _corr(head_v[ok_p], bgd[ok_p])
        if ok_p.sum() >= 3:
            extra["parallax_ratio"] = float(np.log10((bgd[ok_p].mean() + 1e-2) / (head_v[ok_p].mean() * 100 + 1e-2)))
        extra["ear_speed_max"] = float(np.abs(np.diff(ear)).max() / med_ear) if len(ear) > 2 else np.nan

    # Audio-mouth coupling.
    if loud is not None and lip_open is not None and lip_open.std() > 1e-4:
        a = loud[good]
        a = np.maximum(a, np.percentile(a, 97) - 45)
        if a.std() > 1e-3:
            cors = []
            for lag in range(-3, 4):
                if lag >= 0:
                    cors.append(_corr(lip_open[lag:], a[:len(a) - lag]))
                else:
                    cors.append(_corr(lip_open[:lag], a[-lag:]))
            cors = np.nan_to_num(np.array(cors), nan=0.0)
            da, dl = np.diff(a), np.diff(lip_open)
            sc = [_corr(dl[max(0, g):len(dl) + min(0, g)], da[max(0, -g):len(da) - max(0, g)]) for g in range(-4, 5)]
            sc = np.nan_to_num(np.array(sc, np.float64), nan=-1.0)
            extra["av_speed_lag"] = float(np.argmax(sc) - 4) if sc.max() > 0.1 else np.nan
            silent = a < np.percentile(a, 25) + 3
            open_ = lip_open > np.median(lip_open)
            row += [float(cors[3]), float(cors.max()), float(np.argmax(cors) - 3),
                    _corr(np.diff(lip_open), np.diff(a)), float((silent & open_).mean()), float(a.std())]
        else:
            row += [np.nan] * 5 + [0.0]
    else:
        row += [np.nan] * 6

    # Mouth interior texture on the frames where the mouth is most open.
    if lip_open is not None:
        order = good[np.argsort(lip_open)[-4:]]
        vals = []
        face_mean = float(ff[:, y0:y1, x0:x1].mean()) + 1e-3
        # The Laplacian of the face rectangle with a one-pixel margin: the same as over the whole frame.
        py0, px0 = max(0, y0 - 1), max(0, x0 - 1)
        lap_face = cv2.Laplacian(frames[(s + e) // 2, py0:y1 + 1, px0:x1 + 1], cv2.CV_32F)
        face_lap = float(np.abs(lap_face[y0 - py0:y0 - py0 + (y1 - y0), x0 - px0:x0 - px0 + (x1 - x0)]).mean()) + 1e-3
        for i in order:
            pts = lms[i, LIPS_INNER]
            mx0, my0 = np.floor(pts.min(0)).astype(int)
            mx1, my1 = np.ceil(pts.max(0)).astype(int)
            if mx1 - mx0 < 4 or my1 - my0 < 3:
                continue
            crop = f32[i, max(0, my0):my1, max(0, mx0):mx1]
            if crop.size < 12:
                continue
            lap = np.abs(cv2.Laplacian(crop, cv2.CV_32F)).mean()
            vals.append((crop.mean() / face_mean, crop.std() / face_mean, lap / face_lap,
                         (crop < 0.5 * face_mean).mean()))
        if vals:
            v = np.array(vals)
            row += list(v.mean(0)) + [float(v[:, 0].std())]
        else:
            row += [np.nan] * 5
        extra["mouth_hp_tcorr"] = _crops_tcorr([shared.mouth(i) for i in good])
    else:
        row += [np.nan] * 5
    row += [extra.get(k, np.nan) for k in EXTRA_NAMES]
    assert len(row) == len(FEATURE_NAMES), (len(row), len(FEATURE_NAMES))
    return [float(v) if v is not None else np.nan for v in row]
