"""Scoring one file: the contract of `manage.py detect --json` and of the moderation task."""
from __future__ import annotations

import math
import time
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from .features import WINDOW_SECONDS, clip_features
from .model import DEFAULT_MODEL, Detector, load
from .video import read_samples

ProgressFn = Callable[[str, float], None]


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> Detector:
    return load(path)


def default_detector(path: str | Path = DEFAULT_MODEL) -> Detector:
    p = Path(path)
    return _cached(str(p), p.stat().st_mtime if p.exists() else 0.0)


def timeline(starts: np.ndarray, scores: np.ndarray, duration: float) -> list[dict]:
    """One score per second: the mean of the windows that cover that second."""
    out = []
    for s in range(max(1, math.ceil(duration - 1e-6))):
        cover = (starts <= s + 0.5) & (starts + WINDOW_SECONDS > s + 0.5)
        if not cover.any():
            cover = np.abs(starts - s) == np.abs(starts - s).min()
        out.append({"t": s, "score": round(float(scores[cover].mean()), 4)})
    return out


def score_file(path: str | Path, detector: Detector | None = None, *, progress: ProgressFn | None = None,
               explain: bool = True) -> dict:
    started = time.perf_counter()
    det = detector or default_detector()
    if progress:
        progress("decoding", 0.05)
    samples = read_samples(path)
    if progress:
        progress("features", 0.35)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        feats = clip_features(samples)
        if progress:
            progress("scoring", 0.8)
        win = det.window_scores(feats.X)
        score = float(win.mean())
        top = det.explain(feats.X) if explain else []
        cues = det.cues(feats.X) if explain else []
    th = dict(det.thresholds)
    if "likely_generated" not in th and "synthetic" in th:   # a model saved before the labels were renamed
        th["likely_generated"] = th["synthetic"]
    return {"score": round(score, 4), "label": det.label(score), "label_key": det.label_key(score),
            "model_version": det.version,
            "thresholds": {k: th[k] for k in ("suspicious", "likely_generated") if k in th},
            "trained_on": det.card["trained_on"], "measured": det.card["measured"], "caveat": det.card["caveat"],
            "cues": cues, "timeline": timeline(feats.starts, win, feats.duration), "top_features": top,
            "windows": int(len(win)), "duration": round(feats.duration, 2), "feature_version": det.feature_version,
            "seconds": round(time.perf_counter() - started, 3)}
