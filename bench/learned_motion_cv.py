"""Learned against procedural motion, cross-validated over every corpus video:
`python -m bench.learned_motion_cv --jobs 2 --json`.

The training report's verdict (docs/learned_motion.md) rests on 4 held-out videos. Here
fold 0 is the committed weights on those 4; folds 1-3 split the other videos in three,
and for each a model is trained on the rest with the committed settings (guidance and
jaw filter chosen on that fold's training videos, never on its test videos). Every test
video is sampled EVAL_SEEDS times; the distances, sync and verdict are reported per fold
and pooled over all videos. About 8.5 min a fold on one core; --jobs runs folds side by
side (each trains on one thread). The fold models are not kept."""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from generation.learned_motion import evaluate, training
from generation.learned_motion.dataset import CORPUS_VIDEOS, load_corpus
from generation.learned_motion.report import verdict
from generation.threads import torch_threads

FOLDS = 3


def _sources(tracks, held_out):
    rest = sorted((t for t in tracks if t.name not in held_out), key=lambda t: t.name)
    return [rest[k::FOLDS] for k in range(FOLDS)]


def _fold(fold: int, steps: int | None) -> dict:
    """Test tracks of one fold: real, loudness, blink reliability, procedural and learned."""
    started = time.perf_counter()
    tracks = load_corpus()
    seeds = training.EVAL_SEEDS
    with torch_threads(1):
        if fold == 0:
            model, meta = training.committed()
            test = [t for t in tracks if t.name in meta["held_out"]]
            typical, guidance = float(meta["typical_head_intensity"]), meta.get("guidance")
            sigma = meta["jaw_smoothing"]
        else:
            test = _sources(tracks, training.HELD_OUT)[fold - 1]
            train_set = [t for t in tracks if t not in test]
            settings = training.TrainSettings() if steps is None else training.TrainSettings(steps=steps)
            model, info = training.train(train_set, settings)
            typical = info["typical_head_intensity"]
            guidance, _ = training.choose_guidance(model, train_set, typical, seed=settings.seed)
            sigma, _ = training.choose_smoothing(model, train_set, typical, settings.seed, guidance)
        learned = [m for k in range(seeds)
                   for m in training.learned_tracks(model, test, typical, k, jaw_sigma=sigma, guidance=guidance)]
    return {"fold": fold, "videos": [t.name for t in test], "guidance": guidance, "jaw_sigma": sigma,
            "seconds": round(time.perf_counter() - started, 1),
            "real": [t.motion for t in test] * seeds, "loud": [t.loudness[:len(t)] for t in test] * seeds,
            "blink_ok": [t.blink_ok for t in test] * seeds,
            "procedural": [m for k in range(seeds) for m in training.procedural_tracks(test, k)], "learned": learned}


def _summary(real, loud, blink_ok, procedural, learned) -> dict:
    ev = evaluate.compare(real, loud, {"procedural": procedural, "learned": learned}, blink_ok=blink_ok)
    return {"distances": {k: ev[k]["distances"] for k in ("procedural", "learned")},
            "sync": {k: round(ev[k]["sync"]["corr"], 4) for k in ("real", "procedural", "learned")},
            "jaw_vs_real": {k: ev[k]["jaw_vs_real_jaw"] for k in ("procedural", "learned")},
            "verdict": verdict(ev)}


def run(jobs: int = 1, steps: int | None = None, log=print) -> dict:
    keys = ("real", "loud", "blink_ok", "procedural", "learned")
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        folds = list(pool.map(_fold, range(FOLDS + 1), [steps] * (FOLDS + 1)))
    out = []
    for f in folds:
        log(f"fold {f['fold']}: {len(f['videos'])} videos, {f['seconds']} s")
        out.append({"fold": f["fold"], "videos": f["videos"], "guidance": f["guidance"], "jaw_sigma": f["jaw_sigma"],
                    "seconds": f["seconds"], **_summary(*(f[k] for k in keys))})
    pooled = _summary(*([x for f in folds for x in f[k]] for k in keys))
    return {"videos": sum(len(f["videos"]) for f in folds), "steps": steps or "default", "pooled": pooled, "folds": out}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=1, help="folds trained side by side")
    p.add_argument("--steps", type=int, default=None, help="training steps per fold (default: the committed recipe's)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    if not CORPUS_VIDEOS.is_dir():
        print(f"the corpus videos are absent ({CORPUS_VIDEOS}); nothing to measure", file=sys.stderr)
        return 2
    log = (lambda *m: print(*m, file=sys.stderr)) if a.json else print
    out = run(a.jobs, a.steps, log=log)
    print(json.dumps(out) if a.json else json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
