"""dlib's 68 landmarks on every sampled frame, cheaply: the HOG detector runs only on
a few frames, the shape predictor follows the face from the previous frame's points.

The models come from the installed face-recognition-models package (nothing is
downloaded)."""
from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

import dlib
import numpy as np

REDETECT_EVERY = 25     # samples between HOG runs (2 s at 12.5 fps)
_lock = threading.Lock()


def _models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face-recognition-models package is not installed")
    return Path(spec.submodule_search_locations[0]) / "models"


@lru_cache(maxsize=1)
def _models():
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(
        str(_models_dir() / "shape_predictor_68_face_landmarks.dat"))


def _detect(gray: np.ndarray):
    det, _ = _models()
    with _lock:
        rects = det(gray, 0)
        if not rects and max(gray.shape) <= 400:
            rects = det(gray, 1)
    if not rects:
        return None
    return max(rects, key=lambda r: r.width() * r.height())


def _shape(gray: np.ndarray, rect) -> np.ndarray:
    _, sp = _models()
    with _lock:
        s = sp(gray, rect)
    return np.array([[p.x, p.y] for p in s.parts()], np.float32)


def _box_of(pts: np.ndarray):
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    return np.array([x0, y0, x1 - x0, y1 - y0], np.float32)


def track(frames: np.ndarray) -> np.ndarray:
    """(n, 68, 2) landmarks per frame, NaN where no face was found."""
    n = len(frames)
    out = np.full((n, 68, 2), np.nan, np.float32)
    rel = None          # detector box relative to the landmarks' box, learnt on a detection
    prev = None
    for i in range(n):
        g = np.ascontiguousarray(frames[i])
        rect = None
        if prev is None or i % REDETECT_EVERY == 0:
            rect = _detect(g)
            if rect is not None:
                pts = _shape(g, rect)
                lb = _box_of(pts)
                if lb[2] > 4 and lb[3] > 4:
                    rel = np.array([(rect.left() - lb[0]) / lb[2], (rect.top() - lb[1]) / lb[3],
                                    rect.width() / lb[2], rect.height() / lb[3]], np.float32)
                out[i] = pts
                prev = pts
                continue
        if prev is None or rel is None:
            continue
        lb = _box_of(prev)
        x0, y0 = lb[0] + rel[0] * lb[2], lb[1] + rel[1] * lb[3]
        r = dlib.rectangle(int(x0), int(y0), int(x0 + rel[2] * lb[2]), int(y0 + rel[3] * lb[3]))
        pts = _shape(g, r)
        h, w = g.shape
        if not (0 <= pts[:, 0].mean() < w and 0 <= pts[:, 1].mean() < h):
            prev = None
            continue
        out[i] = pts
        prev = pts
    return out
