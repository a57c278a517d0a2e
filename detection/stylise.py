"""Turning real photos into things that are not photographs of a person, at random
strengths: the negative class for the photo check's classifier (cartoons, posters, oil
paint, airbrushed renders, toon-shaded 3D looks, pencil, a face shown on a screen), and
the degradations a real photo may have gone through (JPEG, downscaling), which the check
must accept. Pure OpenCV; every function takes the image, its 68 landmarks and a numpy
Generator, and returns a new uint8 RGB image of the same size."""
from __future__ import annotations

import cv2
import numpy as np

LEFT_EYE, RIGHT_EYE = list(range(36, 42)), list(range(42, 48))


def _saturate(rgb: np.ndarray, factor: float) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _unsharp(rgb: np.ndarray, amount: float, sigma: float = 1.5) -> np.ndarray:
    blur = cv2.GaussianBlur(rgb, (0, 0), sigma)
    return cv2.addWeighted(rgb, 1 + amount, blur, -amount, 0)


def _quantise(rgb: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k colours by k-means, fitted on a sample of pixels."""
    px = rgb.reshape(-1, 3).astype(np.float32)
    sample = px[rng.choice(len(px), size=min(len(px), 6000), replace=False)]
    cv2.setRNGSeed(int(rng.integers(1 << 30)))
    _, _, centres = cv2.kmeans(sample, k, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0), 1,
                               cv2.KMEANS_PP_CENTERS)
    d = ((px[:, None, :] - centres[None]) ** 2).sum(-1)
    return centres[d.argmin(1)].reshape(rgb.shape).astype(np.uint8)


def _ink(rgb: np.ndarray, block: int, c: int) -> np.ndarray:
    gray = cv2.medianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 5)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, c) > 0


def enlarge_eyes(rgb: np.ndarray, lm: np.ndarray, scale: float) -> np.ndarray:
    """Cartoon proportions: each eye magnified by `scale` at its centre, fading out over
    about half the eye distance."""
    lm = np.asarray(lm, np.float32)
    h, w = rgb.shape[:2]
    iod = float(np.linalg.norm(lm[LEFT_EYE].mean(0) - lm[RIGHT_EYE].mean(0)))
    radius = 0.55 * iod
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    mx, my = xs.copy(), ys.copy()
    for idx in (LEFT_EYE, RIGHT_EYE):
        cx, cy = lm[idx].mean(0)
        dx, dy = xs - cx, ys - cy
        r = np.sqrt(dx * dx + dy * dy) / radius
        inside = r < 1
        # inverse map: a pixel at r samples from r * f(r), f from 1/scale (centre) to 1 (edge)
        f = 1 - (1 - 1 / scale) * (1 - r ** 2) ** 2
        mx = np.where(inside, cx + dx * f, mx)
        my = np.where(inside, cy + dy * f, my)
    return cv2.remap(rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def shrink_features(rgb: np.ndarray, lm: np.ndarray, scale: float) -> np.ndarray:
    """A smaller nose and mouth (doll and cartoon faces): the lower face pulled in
    towards the mouth's centre."""
    lm = np.asarray(lm, np.float32)
    h, w = rgb.shape[:2]
    iod = float(np.linalg.norm(lm[LEFT_EYE].mean(0) - lm[RIGHT_EYE].mean(0)))
    cx, cy = lm[list(range(48, 60))].mean(0)
    radius = 0.75 * iod
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xs - cx, ys - cy
    r = np.sqrt(dx * dx + dy * dy) / radius
    f = np.where(r < 1, 1 + (1 / scale - 1) * (1 - r ** 2) ** 2, 1.0).astype(np.float32)
    return cv2.remap(rgb, cx + dx * f, cy + dy * f, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def cartoon(rgb, lm, rng):
    x = rgb
    for _ in range(int(rng.integers(2, 6))):
        x = cv2.bilateralFilter(x, 9, float(rng.uniform(30, 90)), float(rng.uniform(5, 12)))
    x = _quantise(x, int(rng.integers(6, 20)), rng)
    if rng.random() < 0.7:
        lines = _ink(rgb, int(rng.choice([7, 9, 11])), int(rng.integers(2, 7)))
        x = np.where(lines[..., None], x, (x * rng.uniform(0.0, 0.3)).astype(np.uint8))
    return _saturate(x, float(rng.uniform(1.0, 1.6)))


def poster(rgb, lm, rng):
    bits = int(rng.integers(2, 5))
    x = (rgb >> (8 - bits)) << (8 - bits)
    x = x + (1 << (7 - bits))
    if rng.random() < 0.5:
        x = cv2.medianBlur(x.astype(np.uint8), int(rng.choice([3, 5, 7])))
    return _saturate(x.astype(np.uint8), float(rng.uniform(0.9, 1.5)))


def oil_paint(rgb, lm, rng):
    x = cv2.stylization(rgb, sigma_s=float(rng.uniform(30, 150)), sigma_r=float(rng.uniform(0.15, 0.6)))
    return _saturate(x, float(rng.uniform(0.9, 1.5)))


def airbrush(rgb, lm, rng):
    """Edge-preserving smoothing with sharpened contours and brighter colours: the
    look of a painted or rendered portrait with photo-like shading."""
    x = cv2.edgePreservingFilter(rgb, flags=int(rng.choice([1, 2])), sigma_s=float(rng.uniform(40, 160)),
                                 sigma_r=float(rng.uniform(0.2, 0.7)))
    if rng.random() < 0.5:
        x = cv2.bilateralFilter(x, 9, float(rng.uniform(20, 60)), float(rng.uniform(5, 15)))
    x = _unsharp(x, float(rng.uniform(0.0, 1.2)))
    if rng.random() < 0.5:
        x = enlarge_eyes(x, lm, float(rng.uniform(1.15, 1.6)))
    return _saturate(x, float(rng.uniform(1.0, 1.6)))


def toon_3d(rgb, lm, rng):
    """Smooth surfaces, banded shading, big eyes, small features: a 3D cartoon."""
    x = enlarge_eyes(rgb, lm, float(rng.uniform(1.3, 2.0)))
    if rng.random() < 0.6:
        x = shrink_features(x, lm, float(rng.uniform(1.1, 1.5)))
    for _ in range(int(rng.integers(3, 7))):
        x = cv2.bilateralFilter(x, 9, float(rng.uniform(40, 100)), float(rng.uniform(7, 15)))
    lab = cv2.cvtColor(x, cv2.COLOR_RGB2LAB).astype(np.float32)
    levels = float(rng.uniform(6, 16))
    step = 255 / levels
    soft = float(rng.uniform(0.3, 1.0))
    band = np.round(lab[..., 0] / step) * step
    lab[..., 0] = soft * band + (1 - soft) * lab[..., 0]
    lab[..., 0] = cv2.GaussianBlur(lab[..., 0], (0, 0), float(rng.uniform(0.5, 2.0)))
    x = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return _saturate(x, float(rng.uniform(1.1, 1.7)))


def pencil(rgb, lm, rng):
    gray, colour = cv2.pencilSketch(rgb, sigma_s=float(rng.uniform(20, 80)), sigma_r=float(rng.uniform(0.05, 0.12)),
                                    shade_factor=float(rng.uniform(0.02, 0.08)))
    return colour if rng.random() < 0.6 else cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)


def screen(rgb, lm, rng):
    """The photo as filmed off a screen: a pixel grid's moire, subpixel colour stripes,
    a gamma and white-point shift, a little blur."""
    h, w = rgb.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    period = float(rng.uniform(2.2, 6.0))
    angle = float(rng.uniform(0, np.pi))
    wave = np.sin(2 * np.pi * (xs * np.cos(angle) + ys * np.sin(angle)) / period)
    wave2 = np.sin(2 * np.pi * (xs * np.cos(angle + 1.3) + ys * np.sin(angle + 1.3)) / (period * 1.07))
    depth = float(rng.uniform(0.08, 0.25))
    x = rgb.astype(np.float32) / 255.0
    x = x ** float(rng.uniform(0.8, 1.25))
    x = x * (1 + depth * (0.6 * wave + 0.4 * wave2))[..., None]
    stripes = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        stripes[..., c] = ((xs.astype(int) % 3) == c)
    x = x * (1 - 0.25 * depth + 0.5 * depth * stripes)
    x = x * np.array(rng.uniform(0.85, 1.1, 3), np.float32)
    x = cv2.GaussianBlur(x, (0, 0), float(rng.uniform(0.3, 1.0)))
    return np.clip(x * 255, 0, 255).astype(np.uint8)


STYLES = {"cartoon": cartoon, "poster": poster, "oil_paint": oil_paint, "airbrush": airbrush, "toon_3d": toon_3d,
          "pencil": pencil, "screen": screen}


def stylise(rgb: np.ndarray, lm: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    return np.ascontiguousarray(STYLES[style](np.ascontiguousarray(rgb), lm, rng))


def degrade(rgb: np.ndarray, rng: np.random.Generator, *, quality: tuple[int, int] = (40, 95),
            scale: tuple[float, float] = (0.3, 1.0)) -> tuple[np.ndarray, dict]:
    """A copy as a real photo reaches us after sharing: downscaled by a factor drawn from
    `scale`, then JPEG-compressed at a quality drawn from `quality`."""
    s = float(rng.uniform(*scale))
    q = int(rng.integers(quality[0], quality[1] + 1))
    h, w = rgb.shape[:2]
    x = rgb
    if s < 1.0:
        x = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(x, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
    if not ok:
        raise ValueError("JPEG encoding failed")
    out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out, {"scale": round(s, 3), "quality": q}
