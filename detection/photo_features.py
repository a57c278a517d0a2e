"""What tells a photograph of a person from a drawing, a cartoon or a render, measured on
one still image and its face (dlib's box and 68 landmarks), cheap on a CPU.

Groups (each scale-free: the face is resampled to a fixed size first, and the face's
size in the original is itself a feature, so that a small or soft photo is not taken for
a smooth painting):
- geometry: eye size and opening against the eye distance, face proportions (cartoons
  and dolls have large eyes, small noses and mouths);
- texture: high-pass energy of the skin in three bands and their ratios (a camera's skin
  has pores, noise and fine shading; paint and renders are smooth or flat);
- colour: how few colours the face uses, flat patches, saturation;
- edges: share of strong, thin, dark outlines (ink lines) and how abrupt edges are;
- noise: the whole image's finest residual (sensor noise and JPEG blocks against clean
  synthetic pixels).
"""
from __future__ import annotations

import cv2
import numpy as np

PHOTO_FEATURE_VERSION = "vt-photo-features-1"
CROP = 128            # the face (landmarks' box, padded) is resampled to CROP x CROP
NOISE_SIDE = 512      # the whole image is brought to this long side for the noise group

LEFT_EYE, RIGHT_EYE = list(range(36, 42)), list(range(42, 48))
LEFT_BROW, RIGHT_BROW = list(range(17, 22)), list(range(22, 27))
JAW, NOSE, MOUTH = list(range(0, 17)), list(range(27, 36)), list(range(48, 60))

PHOTO_FEATURE_NAMES = [
    # geometry
    "eye_w_iod", "eye_h_w", "eye_area_face", "nose_len_face", "mouth_w_iod", "face_w_h", "brow_eye_iod",
    "chin_mouth_face",
    # texture
    "skin_hp1", "skin_hp2", "skin_hp4", "skin_hp1_hp2", "skin_hp2_hp4", "skin_flat_frac", "skin_lap_kurt",
    "face_hp1", "face_hp1_hp4",
    # colour
    "face_colours", "skin_colours", "face_flat_patch", "skin_sat_mean", "skin_sat_std", "skin_val_std",
    "img_colours",
    # edges
    "edge_density", "dark_line_frac", "edge_sharpness", "edge_contrast",
    # noise, whole image
    "img_noise", "img_noise_flat", "img_block",
    # scale
    "face_px_log",
]


def _poly_mask(shape, pts) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 1)
    return m.astype(bool)


def _eye_metrics(lm: np.ndarray, idx: list[int]) -> tuple[float, float, float]:
    p = lm[idx]
    w = float(np.linalg.norm(p[3] - p[0])) + 1e-6
    h = float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / 2)
    area = float(cv2.contourArea(p.astype(np.float32)))
    return w, h, area


def geometry(lm: np.ndarray) -> list[float]:
    lm = np.asarray(lm, np.float64)
    le, re = lm[LEFT_EYE].mean(0), lm[RIGHT_EYE].mean(0)
    iod = float(np.linalg.norm(re - le)) + 1e-6
    lw, lh, la = _eye_metrics(lm, LEFT_EYE)
    rw, rh, ra = _eye_metrics(lm, RIGHT_EYE)
    hull = cv2.convexHull(lm[JAW + LEFT_BROW + RIGHT_BROW].astype(np.float32))
    face_area = float(cv2.contourArea(hull)) + 1e-6
    face_w = float(np.linalg.norm(lm[16] - lm[0])) + 1e-6
    brow_mid = lm[LEFT_BROW + RIGHT_BROW].mean(0)
    face_h = float(np.linalg.norm(lm[8] - brow_mid)) + 1e-6
    mouth_c = lm[MOUTH].mean(0)
    return [(lw + rw) / 2 / iod, (lh / lw + rh / rw) / 2, (la + ra) / face_area,
            float(np.linalg.norm(lm[33] - lm[27])) / face_h, float(np.linalg.norm(lm[54] - lm[48])) / iod,
            face_w / face_h, float(np.linalg.norm(brow_mid - (le + re) / 2)) / iod,
            float(np.linalg.norm(lm[8] - mouth_c)) / face_h]


def _crop(rgb: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The face resampled to CROP x CROP (landmarks' box padded by a fifth), the landmarks in
    the crop's pixels, and the face's width in the original's pixels."""
    x0, y0 = lm.min(0)
    x1, y1 = lm.max(0)
    w, h = x1 - x0, y1 - y0
    side = max(w, h) * 1.2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.08 * h
    s = CROP / side
    m = np.array([[s, 0, CROP / 2 - s * cx], [0, s, CROP / 2 - s * cy]], np.float64)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    crop = cv2.warpAffine(rgb, m, (CROP, CROP), flags=interp, borderMode=cv2.BORDER_REFLECT)
    pts = lm @ m[:, :2].T + m[:, 2]
    return crop, pts, float(w)


def _skin_mask(pts: np.ndarray) -> np.ndarray:
    shape = (CROP, CROP)
    face = _poly_mask(shape, cv2.convexHull(pts[JAW + LEFT_BROW + RIGHT_BROW].astype(np.float32))[:, 0])
    holes = np.zeros(shape, bool)
    for idx in (LEFT_EYE, RIGHT_EYE, MOUTH):
        c = pts[idx].mean(0)
        p = c + (pts[idx] - c) * 1.6
        holes |= _poly_mask(shape, p)
    for idx in (LEFT_BROW, RIGHT_BROW):
        p = pts[idx]
        holes |= _poly_mask(shape, np.vstack([p + [0, -4], p[::-1] + [0, 5]]))
    skin = face & ~holes
    return cv2.erode(skin.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)


def _band(gray: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(gray, (0, 0), sigma / 2) - cv2.GaussianBlur(gray, (0, 0), sigma)


def _colours(rgb: np.ndarray, mask: np.ndarray | None = None) -> float:
    q = (rgb >> 3).astype(np.int32)
    codes = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
    codes = codes[mask] if mask is not None else codes.ravel()
    if codes.size == 0:
        return np.nan
    return float(len(np.unique(codes)) / np.sqrt(codes.size))


def _noise(rgb: np.ndarray) -> tuple[float, float, float]:
    """Finest residual of the whole image (long side NOISE_SIDE): median absolute diagonal
    Haar detail (a noise estimate), the same in its flattest tenth, and 8x8 block edges."""
    h, w = rgb.shape[:2]
    s = min(1.0, NOISE_SIDE / max(h, w))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    block = np.nan
    if s == 1.0 and h >= 32 and w >= 32:
        d = np.abs(np.diff(gray, axis=1))
        at = d[:, 7::8].mean() if d.shape[1] > 8 else np.nan
        block = float(at / (d.mean() + 1e-6))
    if s < 1.0:
        gray = cv2.resize(gray, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA)
    g = gray[: gray.shape[0] // 2 * 2, : gray.shape[1] // 2 * 2]
    hh = (g[0::2, 0::2] - g[0::2, 1::2] - g[1::2, 0::2] + g[1::2, 1::2]) / 2
    noise = float(np.median(np.abs(hh)) / 0.6745)
    local = cv2.blur(np.abs(cv2.Laplacian(g, cv2.CV_32F)), (8, 8))[0::2, 0::2]
    flat = local <= np.percentile(local, 10)
    noise_flat = float(np.median(np.abs(hh[flat])) / 0.6745) if flat.any() else np.nan
    return noise, noise_flat, block


def portrait_features(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The PHOTO_FEATURE_NAMES of one image whose face has these 68 landmarks."""
    lm = np.asarray(landmarks, np.float64)
    crop, pts, face_px = _crop(rgb, lm)
    skin = _skin_mask(pts)
    face = _poly_mask((CROP, CROP), cv2.convexHull(pts[JAW + LEFT_BROW + RIGHT_BROW].astype(np.float32))[:, 0])
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean_level = float(gray[face].mean()) + 8.0 if face.any() else 128.0

    bands = [np.abs(_band(gray, s)) for s in (1.0, 2.0, 4.0)]
    hp = [float(np.median(b[skin])) / mean_level * 100 if skin.any() else np.nan for b in bands]
    fhp1 = float(np.median(bands[0][face])) / mean_level * 100 if face.any() else np.nan
    fhp4 = float(np.median(bands[2][face])) / mean_level * 100 if face.any() else np.nan
    gx, gy = cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    grad = np.hypot(gx, gy)
    flat_frac = float((grad[skin] < 2.0).mean()) if skin.any() else np.nan
    lap = cv2.Laplacian(gray, cv2.CV_32F)[skin] if skin.any() else np.zeros(1)
    lap_kurt = float(((lap - lap.mean()) ** 4).mean() / (lap.var() ** 2 + 1e-6)) if lap.size > 8 else np.nan

    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV).astype(np.float32)
    sat, val = hsv[..., 1][skin], hsv[..., 2][skin]
    # flat patches: 4x4 blocks of the face whose colour barely varies
    blocks = crop.astype(np.float32).reshape(CROP // 4, 4, CROP // 4, 4, 3).std(axis=(1, 3)).max(axis=-1)
    fmask = face.reshape(CROP // 4, 4, CROP // 4, 4).all(axis=(1, 3))
    flat_patch = float((blocks[fmask] < 1.0).mean()) if fmask.any() else np.nan
    small = rgb
    h, w = rgb.shape[:2]
    if max(h, w) > 256:
        sc = 256 / max(h, w)
        small = cv2.resize(rgb, (max(1, round(w * sc)), max(1, round(h * sc))), interpolation=cv2.INTER_AREA)

    g8 = np.clip(gray, 0, 255).astype(np.uint8)
    edges = cv2.Canny(g8, 60, 140) > 0
    dens = float(edges[face].mean()) if face.any() else np.nan
    blackhat = cv2.morphologyEx(g8, cv2.MORPH_BLACKHAT, np.ones((5, 5), np.uint8)).astype(np.float32)
    dark = float((blackhat[face] > 40).mean()) if face.any() else np.nan
    if edges[face].any():
        e = edges & face
        sharp = float(np.median(grad[e]) / (np.median(np.abs(bands[2][e])) + 1e-3))
        contrast = float(np.median(grad[e])) / mean_level
    else:
        sharp = contrast = np.nan
    noise, noise_flat, block = _noise(rgb)
    feats = (geometry(lm) + hp + [hp[0] / (hp[1] + 1e-3), hp[1] / (hp[2] + 1e-3), flat_frac, lap_kurt, fhp1,
                                  fhp1 / (fhp4 + 1e-3),
                                  _colours(crop, face), _colours(crop, skin), flat_patch,
                                  float(sat.mean()) if sat.size else np.nan,
                                  float(sat.std()) if sat.size else np.nan,
                                  float(val.std()) if val.size else np.nan, _colours(small),
                                  dens, dark, sharp, contrast, noise, noise_flat, block, float(np.log(face_px + 1))])
    return np.asarray(feats, np.float32)
