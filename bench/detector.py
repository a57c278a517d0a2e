"""Detector evaluation: `python -m bench.detector --json`.

Out-of-fold scores with whole identities held out (5-fold GroupKFold); held-out and
laundered figures first, at video level (mean of the windows), then leave-one-family-out,
the Brier score, the calibration thresholds and the time to score a 10 s 512x512 clip.
Needs the feature cache made by `manage.py train_detector` (or fills it: slow)."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from detection.corpus import (
    DEFAULT_CACHE,
    DEFAULT_CORPUS,
    TRAINING_REGISTRY_ID,
    cached_clips,
    real_clips,
    write_wav_segment,
)
from detection.dataset import build_table
from detection.evaluate import (
    group_ablation,
    leave_one_family_out,
    out_of_fold,
    reliability,
    report,
    report_by_engine,
    video_level,
)
from detection.laundering import ATTACKS
from detection.model import DEFAULT_MODEL, fit_detector, load, thresholds_from_calibration
from detection.score import score_file
from generation.controls import Controls
from generation.pipeline import ENGINE_NAME, ENGINE_VERSION, generate_video
from provenance.videomark import VideoWatermarker


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def scoring_time(corpus: Path, detector, repeats: int = 3) -> dict:
    """Generate a 10 s 512x512 clip through the real pipeline (watermarked), then score it."""

    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "voice.wav"
        write_wav_segment(str(corpus / "audio" / "jfk_inaugural_en.flac"), 5.0, 10.0, wav)
        clip = Path(d) / "clip.mp4"
        generate_video(corpus / "photos" / "woman_white_blouse.png", wav, clip,
                       marker=VideoWatermarker(TRAINING_REGISTRY_ID), controls=Controls(size=512, seed=1))
        times, cpu = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            r = score_file(clip, detector)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        t = time.perf_counter()
        score_file(clip, detector, explain=False)
        no_explain = time.perf_counter() - t
    return {"clip": "10 s, 512x512, 25 fps (our generation)", "seconds_median": round(statistics.median(times), 3),
            "seconds_runs": [round(x, 3) for x in times],
            "cpu_seconds_median": round(statistics.median(cpu), 3),
            "load_average_1min": round(os.getloadavg()[0], 2), "seconds_without_explanation": round(no_explain, 3),
            "score": r["score"], "label": r["label"], "cpu_count": os.cpu_count(),
            "note": "warm: dlib models already loaded (loading them once per process takes about 1-2 s); "
                    "cpu_seconds is the process's CPU time, what the wall time approaches on an idle machine"}


def plots(table, probs, out_dir: Path, engine: str) -> list[str]:
    import matplotlib  # noqa: PLC0415 - matplotlib: only with --plots
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib: only with --plots
    from sklearn.calibration import calibration_curve  # noqa: PLC0415 - only with --plots
    from sklearn.metrics import roc_curve  # noqa: PLC0415 - only with --plots


    out_dir.mkdir(parents=True, exist_ok=True)
    rows = (table.y == 0) | (table.groups("engine") == engine)
    y, s, _, v = video_level(table, probs, rows)
    fig, ax = plt.subplots(1, 2, figsize=(10, 4.5))
    for variant in ("clean",) + ATTACKS:
        m = v == variant
        if len(np.unique(y[m])) < 2:
            continue
        fpr, tpr, _ = roc_curve(y[m], s[m])
        for a in ax:
            a.plot(fpr, tpr, label=variant, lw=2 if variant == "clean" else 1)
    ax[0].set(title=f"ROC, video level, {engine} (out-of-fold)", xlabel="false positive rate", ylabel="detection rate")
    ax[1].set(title="ROC, low-FPR region (log x)", xlabel="false positive rate (log)", xscale="log", xlim=(1e-3, 1))
    ax[1].axvline(0.01, color="grey", ls=":")
    ax[0].legend(loc="lower right")
    fig.tight_layout()
    roc_path = out_dir / "detector_roc.png"
    fig.savefig(roc_path, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(1, 2, figsize=(10, 4.5))
    for name, (yy, ss) in {"windows": (table.y, probs), "videos": (y, s)}.items():
        frac, mean = calibration_curve(yy, ss, n_bins=10, strategy="quantile")
        ax[0].plot(mean, frac, "o-", label=name)
    ax[0].plot([0, 1], [0, 1], "k:", lw=1)
    ax[0].set(title="Reliability (out-of-fold, all variants)", xlabel="mean predicted probability",
              ylabel="fraction generated")
    ax[0].legend()
    ax[1].hist([s[y == 0], s[y == 1]], bins=25, range=(0, 1), label=["real", "generated"], stacked=False)
    ax[1].set(title="Video scores (out-of-fold)", xlabel="score", yscale="log")
    ax[1].legend()
    fig.tight_layout()
    rel_path = out_dir / "detector_reliability.png"
    fig.savefig(rel_path, dpi=110)
    plt.close(fig)
    return [str(roc_path), str(rel_path)]


def main(argv=None) -> int:

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--json", action="store_true")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--cache", default=str(DEFAULT_CACHE))
    p.add_argument("--plots", default=None, help="write ROC and reliability PNGs into this folder")
    p.add_argument("--no-lofo", action="store_true", help="skip leave-one-family-out (slow)")
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--ablation", action="store_true", help="also train without each feature group in turn")
    a = p.parse_args(argv)
    corpus, cache = Path(a.corpus), Path(a.cache)
    if not (corpus / "videos").is_dir():
        print(json.dumps({"error": f"no corpus at {corpus}"}))
        return 2
    gen = cached_clips(cache, engines="all")
    if not gen:
        print(json.dumps({"error": f"no cached generations in {cache}; run `manage.py train_detector` first"}))
        return 2
    clips = real_clips(corpus) + gen
    t0 = time.perf_counter()
    table = build_table(clips, cache, log=None)
    probs = out_of_fold(table, log=_log)
    rep = report(table, probs)
    by_engine = report_by_engine(table, probs)
    current = f"{ENGINE_NAME} {ENGINE_VERSION}"
    head = by_engine.get(current) or {"held_out": rep["held_out"], "laundered": rep["laundered"],
                                      "laundered_all": rep["laundered_all"]}
    y, s, _, _ = video_level(table, probs)
    out = {"protocol": "5-fold GroupKFold by identity (photo or person); laundered copies follow their clip; "
                       "video score = mean of 2 s window probabilities; trained on every engine's generations, "
                       "headline figures on the current engine's",
           "engine": current,
           **{k: head["held_out"].get(k) for k in ("auc", "tpr_at_1pct_fpr", "eer", "brier")},
           "held_out": head["held_out"], "laundered": head["laundered"], "laundered_all": head["laundered_all"],
           "all_engines": {k: rep[k] for k in ("held_out", "laundered", "laundered_all")}, "by_engine": by_engine,
           "window_level": rep["window_level"], "brier_all_variants": rep["all_variants"]["brier"],
           "thresholds": thresholds_from_calibration(s[y == 0], s[y == 1]), "reliability_video": reliability(y, s),
           "clips": {"real": sum(c.label == 0 for c in clips), "generated": sum(c.label == 1 for c in clips),
                     "generated_by_engine": {e: sum(c.engine == e for c in clips if c.label == 1)
                                             for e in sorted({c.engine for c in clips if c.label == 1})},
                     "identities": len({c.identity for c in clips})},
           "windows": int(len(table.y))}
    yc, sc, cc, vc = video_level(table, probs)
    clean = vc == "clean"
    order = np.argsort(sc)
    out["hardest_generated"] = [{"file": Path(clips[cc[i]].path).name, "engine": clips[cc[i]].engine,
                                 "family": clips[cc[i]].family,
                                 "source": clips[cc[i]].source, "score": round(float(sc[i]), 4)}
                                for i in order if clean[i] and yc[i] == 1][:5]
    out["highest_real"] = [{"file": Path(clips[cc[i]].path).name, "score": round(float(sc[i]), 4)}
                           for i in order[::-1] if clean[i] and yc[i] == 0][:5]
    if not a.no_lofo:
        out["leave_one_engine_out"] = {"protocol": "3-fold by identity, 100 boosting rounds; the left-out engine's "
                                                   "generations are never trained on",
                                       **leave_one_family_out(table, k=3, max_iter=100, log=_log, key="engine")}
        out["leave_one_family_out"] = {"protocol": "3-fold by identity, 100 boosting rounds; the left-out family's "
                                                   "generations are never trained on",
                                       **leave_one_family_out(table, k=3, max_iter=100, log=_log)}
    if a.ablation:
        out["feature_group_ablation"] = {"protocol": "3-fold by identity, 100 boosting rounds",
                                         **group_ablation(table, k=3, max_iter=100, log=_log)}
    if a.plots:
        out["plots"] = plots(table, probs, Path(a.plots), current)
    out["evaluation_seconds"] = round(time.perf_counter() - t0, 1)
    if not a.no_timing:
        det = load(DEFAULT_MODEL) if DEFAULT_MODEL.exists() else None
        if det is None:
            det = fit_detector(table.X, table.y, table.groups("identity"), version="bench")
        out["scoring_10s_512"] = scoring_time(corpus, det)
    print(json.dumps(out) if a.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
