"""Training the shipped detector: corpus -> features (clean and laundered) -> out-of-fold
evaluation and thresholds -> final fit on everything -> skops file + manifest."""
from __future__ import annotations

import hashlib
import json
import platform as _platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sklearn
import skops

from .corpus import DEFAULT_CACHE, DEFAULT_CORPUS, Clip, cached_clips, generate_clips, plan_generations, real_clips
from .dataset import VARIANTS, build_table, data_hashes
from .evaluate import out_of_fold, reliability, report, report_by_engine, video_level
from .features import FEATURE_NAMES, FEATURE_VERSION
from .model import DEFAULT_MODEL, MODEL_REVISION, fit_detector, save, thresholds_from_calibration


def corpus_clips(corpus: Path = DEFAULT_CORPUS, cache: Path = DEFAULT_CACHE, *, generate: bool = True,
                 n_generations: int = 98, log=None) -> list[Clip]:
    if not (Path(corpus) / "videos").is_dir():
        raise FileNotFoundError(f"no corpus at {corpus} (expected videos/, photos/, audio/)")
    if generate:
        generate_clips(plan_generations(corpus, n=n_generations), cache, log=log or (lambda m: None))
        # The learned motion planner is a different generator for the detector: its own clips.
        generate_clips(plan_generations(corpus, n=max(8, n_generations // 4), seed=12, motion="learned", prefix="lm"),
                       cache, log=log or (lambda m: None))
    gen = cached_clips(cache, engines="all")   # the current engine's and earlier engines' generations
    if not gen:
        raise FileNotFoundError(f"no generated clips in {cache}; run with generation enabled")
    return real_clips(corpus) + gen


def train(*, corpus: Path = DEFAULT_CORPUS, cache: Path = DEFAULT_CACHE, out: Path = DEFAULT_MODEL,
          generate: bool = True, n_generations: int = 80, variants=VARIANTS, folds: int = 5, max_iter: int = 200,
          log=None) -> dict:
    log = log or (lambda m: None)
    started = time.time()
    clips = corpus_clips(corpus, cache, generate=generate, n_generations=n_generations, log=log)
    table = build_table(clips, cache, variants=variants, log=log)
    probs = out_of_fold(table, k=folds, max_iter=max_iter, log=log)
    rep = report(table, probs)
    y, s, _, _ = video_level(table, probs)
    thresholds = thresholds_from_calibration(s[y == 0], s[y == 1])
    hashes = data_hashes(clips)
    digest = hashlib.sha256(json.dumps([FEATURE_VERSION, MODEL_REVISION, max_iter, sorted(hashes.items()),
                                        list(variants)]).encode()).hexdigest()
    version = f"vt-det-{datetime.now(timezone.utc):%Y%m%d}-{digest[:8]}"
    detector = fit_detector(table.X, table.y, table.groups("identity"), version=version, thresholds=thresholds,
                            max_iter=max_iter)
    manifest = {
        "version": version, "feature_version": FEATURE_VERSION, "feature_names": list(FEATURE_NAMES),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_seconds": round(time.time() - started, 1),
        "software": {"python": _platform.python_version(), "scikit-learn": sklearn.__version__,
                     "skops": skops.__version__},
        "model": "SimpleImputer(median, missing indicators) + HistGradientBoostingClassifier(balanced) in "
                 "CalibratedClassifierCV(sigmoid, identity-grouped folds)", "model_revision": MODEL_REVISION,
        "data": {"clips": [{"file": Path(c.path).name, "sha256": hashes[Path(c.path).name], "label": c.label,
                            "identity": c.identity, "source": c.source, "family": c.family, "controls": c.controls,
                            "engine": c.engine}
                           for c in clips],
                 "variants": list(variants), "windows": int(len(table.y)),
                 "windows_generated": int(table.y.sum()), "windows_real": int((table.y == 0).sum())},
        "evaluation": {"protocol": f"{folds}-fold GroupKFold by identity; laundered copies follow their clip",
                       **rep, "by_engine": report_by_engine(table, probs), "reliability_video": reliability(y, s)},
        "thresholds": thresholds,
    }
    save(detector, out, manifest)
    log(f"saved {out} ({version})")
    return manifest


def train_tiny(X: np.ndarray, y: np.ndarray, groups: np.ndarray, *, max_iter: int = 20):
    """A small model for tests: same code path, seconds to fit."""
    return fit_detector(X, y, groups, version="tiny-test", max_iter=max_iter, min_samples_leaf=2)
