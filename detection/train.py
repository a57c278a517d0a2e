"""Training the shipped detector: corpus (our generations, other generators' clips, real
videos) -> features (clean and laundered) -> out-of-fold evaluation, leave-one-generator-out
rates and thresholds -> final fit on everything -> skops file + manifest (what it was
trained on and its measured rates, which every result repeats)."""
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

from .corpus import (
    DEFAULT_CACHE,
    DEFAULT_CORPUS,
    OURS,
    Clip,
    cached_clips,
    generate_clips,
    generator_family,
    other_generator_clips,
    plan_generations,
    real_clips,
)
from .dataset import build_table, data_hashes
from .evaluate import (
    families,
    leave_one_generator_out,
    model_table,
    out_of_fold,
    real_above_threshold_cv,
    reliability,
    report,
    report_by_engine,
    summarise_lofo,
    video_level,
)
from .features import FEATURE_NAMES, FEATURE_VERSION
from .model import (
    DEFAULT_MODEL,
    MODEL_FEATURES,
    MODEL_GROUPS,
    MODEL_REVISION,
    VIDEO_WEIGHTS,
    fit_detector,
    save,
    thresholds_from_calibration,
)


def corpus_clips(corpus: Path = DEFAULT_CORPUS, cache: Path = DEFAULT_CACHE, *, generate: bool = True,
                 n_generations: int = 40, log=None) -> list[Clip]:
    if not (Path(corpus) / "videos").is_dir():
        raise FileNotFoundError(f"no corpus at {corpus} (expected videos/, photos/, audio/)")
    if generate:
        generate_clips(plan_generations(corpus, n=n_generations), cache, log=log or (lambda m: None))
        # The learned motion planner is a different generator for the detector: its own clips.
        generate_clips(plan_generations(corpus, n=max(8, n_generations * 2 // 5), seed=12, motion="learned",
                                        prefix="lm"), cache, log=log or (lambda m: None))
    gen = cached_clips(cache, engines="all")   # the current engine's and earlier engines' generations
    if not gen:
        raise FileNotFoundError(f"no generated clips in {cache}; run with generation enabled")
    return real_clips(corpus) + gen + other_generator_clips(corpus)


# Laundering used for training and evaluation: the chain (CRF 28, then half size and a 10% crop
# at CRF 28), the hardest of the attacks for the previous model; the others cost feature time.
TRAIN_VARIANTS = ("clean", "chain")


def measured_rates(table, probs, lofo: dict) -> dict:
    """The rates every result repeats: detection at 1% and 5% false positives on real videos
    for generator families the model did not see (leave-one-generator-out), and the real
    videos reaching Suspicious (thresholds read off other people's videos), with intervals."""
    y, s, c, v = video_level(table, probs)
    ident = np.array([table.clips[i].identity for i in c])
    real = y == 0
    fam_of = np.array([generator_family(table.clips[i]) for i in c])
    counts = {f: int(((fam_of == f) & (v == "clean")).sum()) for f in sorted(set(fam_of[~real]))}
    return measured_from_lofo(lofo, real_above_threshold_cv(s[real], ident[real]),
                              int((real & (v == "clean")).sum()), counts)


def measured_from_lofo(lofo: dict, real_above: dict, real_videos: int, generated_videos: dict) -> dict:
    """Headline rates: the mean over the other generators' families of each family's rate
    (that family against the real videos, scored by the model trained without it); the
    interval is the mean of the families' 95% intervals (wider than the mean's own)."""
    others = sorted(set(lofo) - {OURS})

    def mean_of(key):
        rows = [lofo[f]["clean"][key] for f in others if key in lofo[f]["clean"]]
        return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in ("value", "low", "high")}
    return {"protocol": "leave-one-generator-family-out, out-of-fold by person or source interview: each family's "
                        "clean videos against the clean real videos, scored by a model trained without that family; "
                        "headline = mean over the other generators' families, interval = mean of their 95% "
                        "bootstrap intervals (resampling people)",
            "families": others,
            "tpr_at_1pct_fpr": mean_of("tpr_at_1pct_fpr"), "tpr_at_5pct_fpr": mean_of("tpr_at_5pct_fpr"),
            "auc": mean_of("auc"), "unseen_families": summarise_lofo(lofo, others)["clean"],
            "per_family_tpr_at_5pct_fpr": {f: lofo[f]["clean"]["tpr_at_5pct_fpr"] for f in lofo},
            "real_above_suspicious": real_above, "real_videos": real_videos, "generated_videos": generated_videos}


def train(*, corpus: Path = DEFAULT_CORPUS, cache: Path = DEFAULT_CACHE, out: Path = DEFAULT_MODEL,
          generate: bool = True, n_generations: int = 40, variants=TRAIN_VARIANTS, folds: int = 5,
          max_iter: int = 200, lofo_folds: int = 4, lofo_iter: int = 100, cached_only: bool = False,
          log=None) -> dict:
    log = log or (lambda m: None)
    started = time.time()
    clips = corpus_clips(corpus, cache, generate=generate, n_generations=n_generations, log=log)
    table = model_table(build_table(clips, cache, variants=variants, log=log, cached_only=cached_only), MODEL_FEATURES)
    probs = out_of_fold(table, k=folds, max_iter=max_iter, log=log)
    rep = report(table, probs)
    y, s, _, _ = video_level(table, probs)
    thresholds = thresholds_from_calibration(s[y == 0], s[y == 1])
    # Rank-based figures: a plain booster per fold is enough (and a quarter of the cost).
    lofo = leave_one_generator_out(table, k=lofo_folds, max_iter=lofo_iter, calibrated=False, log=log)
    measured = measured_rates(table, probs, lofo)
    fam = families(table)
    trained_on = [OURS] + sorted(set(fam) - {"real", OURS})
    hashes = data_hashes(clips)
    digest = hashlib.sha256(json.dumps([FEATURE_VERSION, MODEL_REVISION, max_iter, sorted(hashes.items()),
                                        list(variants)]).encode()).hexdigest()
    version = f"vt-det-{datetime.now(timezone.utc):%Y%m%d}-{digest[:8]}"
    detector = fit_detector(table.X, table.y, table.groups("identity"), version=version, thresholds=thresholds,
                            max_iter=max_iter, videos=table.videos() if VIDEO_WEIGHTS else None,
                            features=MODEL_FEATURES)
    manifest = {
        "version": version, "feature_version": FEATURE_VERSION, "feature_names": list(MODEL_FEATURES),
        "cue_groups": list(MODEL_GROUPS), "features_computed": len(FEATURE_NAMES),
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
                 "windows_generated": int(table.y.sum()), "windows_real": int((table.y == 0).sum()),
                 "windows_by_variant": {str(x): int((table.variant == x).sum()) for x in np.unique(table.variant)}},
        "evaluation": {"protocol": f"{folds}-fold GroupKFold by identity; laundered copies follow their clip",
                       **rep, "by_engine": report_by_engine(table, probs), "reliability_video": reliability(y, s)},
        "thresholds": thresholds,
        "trained_on": trained_on, "measured": measured,
        "leave_one_generator_out": {f: {k: r[k] for k in ("clean", "laundered")} for f, r in lofo.items()},
    }
    save(detector, out, manifest)
    log(f"saved {out} ({version})")
    return manifest


def train_tiny(X: np.ndarray, y: np.ndarray, groups: np.ndarray, *, max_iter: int = 20):
    """A small model for tests: same code path, seconds to fit."""
    return fit_detector(X, y, groups, version="tiny-test", max_iter=max_iter, min_samples_leaf=2)
