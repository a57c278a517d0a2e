"""Detector evaluation: `python -m bench.detector --json [--plots docs] [--ablation]`.

Everything out-of-fold with whole people (or source interviews) held out; laundered copies
follow their clip. First our engine's held-out and laundered figures (trained on every
family), then leave-one-generator-family-out over the other generators and our engine,
with 95% bootstrap intervals; the real videos reaching Suspicious (threshold read off other
people's videos); optionally the same leave-one-out without each cue group; and the time
to score a 10 s 512x512 clip (3 runs, the worst reported). Needs the feature cache made by
`manage.py train_detector` (or fills it: slow)."""
from __future__ import annotations

import argparse
import json
import os
import platform as _platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from detection.corpus import (
    DEFAULT_CACHE,
    DEFAULT_CORPUS,
    OURS,
    TRAINING_REGISTRY_ID,
    cached_clips,
    other_generator_clips,
    real_clips,
    write_wav_segment,
)
from detection.dataset import build_table
from detection.evaluate import (
    families,
    leave_one_generator_out,
    lofo_group_ablation,
    metrics,
    model_table,
    out_of_fold,
    rates_with_intervals,
    real_above_threshold_cv,
    reliability,
    repeated_lofo,
    summarise_lofo,
    video_level,
)
from detection.model import (
    DEFAULT_MODEL,
    MODEL_FEATURES,
    MODEL_GROUPS,
    MOTION_FEATURES,
    MOTION_GROUPS,
    VIDEO_WEIGHTS,
    fit_detector,
    load,
    thresholds_from_calibration,
)
from detection.score import score_file
from detection.train import TRAIN_VARIANTS
from generation.controls import Controls
from generation.pipeline import generate_video
from provenance.videomark import VideoWatermarker

SEED = 0


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def scoring_time(corpus: Path, detector, repeats: int = 3) -> dict:
    """Generate a 10 s 512x512 clip through the real pipeline (watermarked), then score it
    `repeats` times (warm: the dlib models are loaded by a first untimed run)."""
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "voice.wav"
        write_wav_segment(str(corpus / "audio" / "jfk_inaugural_en.flac"), 5.0, 10.0, wav)
        clip = Path(d) / "clip.mp4"
        generate_video(corpus / "photos" / "woman_white_blouse.png", wav, clip,
                       marker=VideoWatermarker(TRAINING_REGISTRY_ID), controls=Controls(size=512, seed=1))
        score_file(clip, detector)   # warm-up: loads the landmark models
        times, cpu, loads = [], [], []
        for _ in range(repeats):
            loads.append(round(os.getloadavg()[0], 2))
            t, c = time.perf_counter(), time.process_time()
            r = score_file(clip, detector)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    return {"clip": "10 s, 512x512, 25 fps (our generation)", "seconds_runs": [round(x, 3) for x in times],
            "seconds_worst": round(max(times), 3), "cpu_seconds_runs": [round(x, 3) for x in cpu],
            "load_average_1min_at_start": loads, "score": r["score"], "label": r["label"],
            "cpu_count": os.cpu_count(),
            "note": "warm (landmark models loaded once per process, 1-2 s); with the explanation (features and cues)"}


def plots(lofo: dict, ablation: dict | None, y, s, fam_v, v, out_dir: Path) -> list[str]:
    import matplotlib  # noqa: PLC0415 - matplotlib: only with --plots
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib: only with --plots

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    fams = list(lofo)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    x = np.arange(len(fams))
    for j, (variant, off) in enumerate((("clean", -0.2), ("laundered", 0.2))):
        vals = [lofo[f][variant]["tpr_at_5pct_fpr"] for f in fams]
        mid = np.array([a["value"] for a in vals])
        err = np.array([[a["value"] - a["low"] for a in vals], [a["high"] - a["value"] for a in vals]])
        ax.bar(x + off, mid, 0.4, yerr=err, capsize=3, label=variant, color=("#1f5fbf", "#8a5a00")[j])
    ax.axhline(0.8, color="grey", ls=":", lw=1)
    ax.axhline(0.5, color="grey", ls="--", lw=1)
    ax.set_xticks(x, [f"{f}\n(n={lofo[f]['clean']['n_generated']})" for f in fams], fontsize=8)
    ax.set(ylim=(0, 1.05), ylabel="detected at 5% FPR on real videos",
           title="Leave one generator family out (95% bootstrap intervals)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    p = out_dir / "detector_lofo.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    paths.append(str(p))

    fig, ax = plt.subplots(figsize=(10, 4.5))
    clean = v == "clean"
    groups = ["real"] + fams
    data = [s[clean & (fam_v == g)] for g in groups]
    ax.boxplot(data, showfliers=False)
    for i, d in enumerate(data):
        ax.scatter(np.full(len(d), i + 1) + np.random.default_rng(i).uniform(-0.15, 0.15, len(d)), d, s=8,
                   color="#1f5fbf" if i else "#2a7a2a", alpha=0.7)
    ax.set_xticks(range(1, len(groups) + 1), groups, fontsize=8)
    ax.set(ylabel="video score (out-of-fold, every family in training)", title="Scores by source, clean videos")
    fig.tight_layout()
    p = out_dir / "detector_scores.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    paths.append(str(p))

    if ablation:
        paths += ablation_plot(ablation, out_dir)
    return paths


def ablation_plot(ablation: dict, out_dir: Path) -> list[str]:
    import matplotlib  # noqa: PLC0415 - matplotlib: only with --plots
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib: only with --plots

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if ablation:
        names = [k for k in ablation if k != "all_groups"]
        base = ablation["all_groups"]["others_mean_tpr_at_5pct"]
        vals = [ablation[k]["others_mean_tpr_at_5pct"] - base for k in names]
        order = np.argsort(vals)
        fig, ax = plt.subplots(figsize=(8, 5))
        ax.barh([names[i].replace("without_", "") for i in order], [vals[i] for i in order], color="#1f5fbf")
        ax.axvline(0, color="k", lw=1)
        ax.set(xlabel="change in mean detection at 5% FPR, unseen other families, when the group is removed",
               title=f"Cue-group ablation (all groups: {base:.2f})")
        fig.tight_layout()
        p = out_dir / "detector_ablation.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(str(p))
    return paths


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--json", action="store_true")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--cache", default=str(DEFAULT_CACHE))
    p.add_argument("--plots", default=None, help="write the PNGs into this folder")
    p.add_argument("--no-lofo", action="store_true", help="skip leave-one-generator-out (slow)")
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--ablation", action="store_true", help="leave-one-generator-out without each cue group in turn")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--splits", type=int, default=5,
                   help="leave-one-generator-out repeated over this many assignments of people to folds (1: once)")
    p.add_argument("--compare-motion-only", action="store_true",
                   help="the same figures (our engine held out, repeated leave-one-generator-out) for a model "
                        "reading only the motion cue groups")
    p.add_argument("--cached-only", action="store_true", help="only the features already cached")
    p.add_argument("--only-ablation", action="store_true", help="just the cue-group ablation (and its plot)")
    p.add_argument("--weighting", choices=("window", "video"), default="video" if VIDEO_WEIGHTS else "window",
                   help="train with every window (as before) or every video weighing the same; default: the "
                        "shipped model's")
    a = p.parse_args(argv)
    corpus, cache = Path(a.corpus), Path(a.cache)
    if not (corpus / "videos").is_dir():
        print(json.dumps({"error": f"no corpus at {corpus}"}))
        return 2
    gen = cached_clips(cache, engines="all")
    if not gen:
        print(json.dumps({"error": f"no cached generations in {cache}; run `manage.py train_detector` first"}))
        return 2
    clips = real_clips(corpus) + gen + other_generator_clips(corpus)
    _log(f"seed {a.seed}")
    t0 = time.perf_counter()
    full = build_table(clips, cache, variants=TRAIN_VARIANTS, log=None, cached_only=a.cached_only)
    table = model_table(full, MODEL_FEATURES)   # what the shipped model reads; the ablation sees every group
    if a.only_ablation:
        ablation = lofo_group_ablation(full, k=2, seed=a.seed, max_iter=40, log=_log, include_ours=False)
        out = {"seed": a.seed, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "protocol": "leave-one-generator-out over the six other families without one cue group at a time; "
                           "2-fold by person/source interview, 40 boosting rounds, uncalibrated (rank-based), clean "
                           "and laundered videos scored separately", **ablation}
        if a.plots:
            out["plots"] = ablation_plot(ablation, Path(a.plots))
        print(json.dumps(out) if a.json else json.dumps(out, indent=2))
        return 0
    weighted = a.weighting == "video"
    probs = out_of_fold(table, seed=a.seed, log=_log, weighted=weighted)
    fam = families(table)
    y, s, c, v = video_level(table, probs)
    fam_v = np.array([fam[table.clip == i][0] for i in c])
    ident = np.array([table.clips[i].identity for i in c])
    real = y == 0
    ours = real | (fam_v == OURS)
    out = {"machine": f"{_platform.node()} ({os.cpu_count()} cores, shared with other sessions)",
           "weighting": a.weighting, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seed": a.seed,
           "cue_groups": list(MODEL_GROUPS), "features": len(MODEL_FEATURES),
           "protocol": "out-of-fold, 5-fold GroupKFold by person or source interview (a real interview and every "
                       "generation made from it fall in one group); laundered copies follow their clip; video score "
                       "= mean of 2 s window probabilities; trained on every family",
           "variants": list(TRAIN_VARIANTS),
           "windows_by_variant": {str(x): int((table.variant == x).sum()) for x in np.unique(table.variant)}}
    # Our engine, trained on every family (in-domain, people held out): the contract's keys.
    oc = ours & (v == "clean")
    out.update({k: metrics(y[oc], s[oc]).get(k) for k in ("auc", "tpr_at_1pct_fpr", "eer")})
    out["ours_held_out"] = rates_with_intervals(y[oc], s[oc], ident[oc], seed=a.seed)
    out["ours_laundered"] = {}
    for variant in TRAIN_VARIANTS[1:]:
        m = ours & (v == variant)
        out["ours_laundered"][variant] = {**metrics(y[m], s[m]),
                                          **rates_with_intervals(y[m], s[m], ident[m], seed=a.seed)}
    ol = ours & (v != "clean")
    out["ours_laundered_all"] = rates_with_intervals(y[ol], s[ol], ident[ol], seed=a.seed)
    # Every family in training: each family against the real videos.
    out["in_domain_by_family"] = {
        f: {"clean": rates_with_intervals(y[(real | (fam_v == f)) & (v == "clean")],
                                          s[(real | (fam_v == f)) & (v == "clean")],
                                          ident[(real | (fam_v == f)) & (v == "clean")], seed=a.seed, n_boot=200)}
        for f in sorted(set(fam_v) - {"real"})}
    th = thresholds_from_calibration(s[real], s[~real])
    out["thresholds"] = th
    out["real_above_suspicious"] = {
        "in_sample": round(float((s[real] >= th["suspicious"]).mean()), 4),
        "cross_validated": real_above_threshold_cv(s[real], ident[real]),
        "cross_validated_clean": real_above_threshold_cv(s[real & (v == "clean")], ident[real & (v == "clean")]),
        "note": "in_sample is at most 5% by construction (the threshold is read off these scores); "
                "cross_validated reads the threshold off other people's real videos"}
    out["reliability_video"] = reliability(y, s)
    order = np.argsort(s)
    out["highest_real"] = [{"file": Path(clips[c[i]].path).name, "variant": str(v[i]), "score": round(float(s[i]), 4)}
                           for i in order[::-1] if real[i]][:5]
    out["clips"] = {"real": sum(cl.label == 0 for cl in clips),
                    "generated": {f: int(((fam_v == f) & (v == "clean")).sum()) for f in sorted(set(fam_v) - {"real"})},
                    "identities": len({cl.identity for cl in clips}), "windows": int(len(table.y))}
    lofo = None
    if not a.no_lofo:
        lofo = leave_one_generator_out(table, k=4, seed=a.seed, max_iter=100, calibrated=False, log=_log,
                                       weighted=weighted)
        others = sorted(set(lofo) - {OURS})
        out["leave_one_generator_out"] = {
            "protocol": "each family's generations never trained on; 4-fold by person/source interview, 100 boosting "
                        "rounds (plain booster: rank-based figures); clean: the family's clean videos vs clean real "
                        "videos; laundered: its laundered copies (the chain) vs the real videos' laundered copies; "
                        "95% bootstrap intervals resampling people",
            "summary_other_families": summarise_lofo(lofo, others),
            "families": {f: {k: lofo[f][k] for k in ("clean", "laundered")} for f in lofo}}
        if a.splits > 1:
            out["leave_one_generator_out_repeated"] = {
                "protocol": f"the same, repeated over {a.splits} assignments of people to the 4 folds (the fixed one, "
                            "then shuffled with seeds seed+1 ...), point figures per split; the headline is the mean "
                            "over splits, with the lowest and highest split",
                **repeated_lofo(table, splits=a.splits, k=4, seed=a.seed, max_iter=100, log=_log, weighted=weighted)}
            if a.compare_motion_only:
                motion = model_table(full, MOTION_FEATURES)
                mp = out_of_fold(motion, seed=a.seed, log=_log, weighted=weighted)
                my, ms, mc, mv = video_level(motion, mp)
                mo = ((my == 0) | (fam_v == OURS)) & (mv == "clean")
                ml = ((my == 0) | (fam_v == OURS)) & (mv != "clean")
                out["motion_only"] = {
                    "protocol": "the same figures for a model reading only the motion cue groups "
                                f"({', '.join(MOTION_GROUPS)}; {len(MOTION_FEATURES)} features), same folds and splits",
                    "ours_held_out": rates_with_intervals(my[mo], ms[mo], ident[mo], seed=a.seed),
                    "ours_laundered_all": rates_with_intervals(my[ml], ms[ml], ident[ml], seed=a.seed),
                    "highest_real": [{"file": Path(clips[mc[i]].path).name, "variant": str(mv[i]),
                                      "score": round(float(ms[i]), 4)} for i in np.argsort(ms)[::-1] if my[i] == 0][:5],
                    "leave_one_generator_out_repeated": repeated_lofo(motion, splits=a.splits, k=4, seed=a.seed,
                                                                      max_iter=100, log=_log, weighted=weighted)}
    ablation = None
    if a.ablation:
        ablation = lofo_group_ablation(full, k=3, seed=a.seed, max_iter=80, log=_log)
        out["cue_group_ablation"] = {"protocol": "leave-one-generator-out without one cue group; 3-fold, 80 rounds, "
                                                 "uncalibrated booster (rank-based figures), clean videos",
                                     **ablation}
    if a.plots and lofo is not None:
        out["plots"] = plots(lofo, ablation, y, s, fam_v, v, Path(a.plots))
    out["evaluation_seconds"] = round(time.perf_counter() - t0, 1)
    if not a.no_timing:
        det = load(DEFAULT_MODEL) if DEFAULT_MODEL.exists() else fit_detector(
            table.X, table.y, table.groups("identity"), version="bench", features=MODEL_FEATURES)
        out["scoring_10s_512"] = scoring_time(corpus, det)
    print(json.dumps(out) if a.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
