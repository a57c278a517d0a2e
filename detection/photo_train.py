"""Making the photo check's reference: real photos and frames of real videos, clean and
degraded (JPEG quality 40-95, downscaled 0.3-1.0), are the reference; stylisations of the
same images (detection.stylise: cartoon, poster, oil paint, airbrush, toon 3D, pencil,
screen, at random strengths) are the negatives its figures are measured on. Out-of-fold
scores by person (the reference made without that person) give the honest figures; the
shipped reference holds every real sample.

The corpus' artwork and AI portraits (generated/) are never used here. The threshold is
not learnt: `--threshold` (3.2) was set by hand between the highest real-photo score and the
lowest artwork score of the corpus, so the corpus figure does not measure it held out (see
docs/benchmarks.md). "Unsure" photos and videos are left out of the reference too.

    python -m detection.photo_train [--corpus DIR] [--frames N] [--seed S] [--out FILE] --json
"""
from __future__ import annotations

import argparse
import json
import platform as _platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import av
import cv2
import numpy as np
from sklearn.model_selection import GroupKFold

from generation.errors import InputError
from generation.face import FaceBox, analyse_face, landmarks
from generation.images import load_image_file

from .corpus import DEFAULT_CORPUS, SAME_PERSON
from .photo_check import CUES, DEFAULT_MODEL, MODEL_REVISION, PhotoModel, save_model
from .photo_features import PHOTO_FEATURE_VERSION, portrait_features
from .stylise import STYLES, degrade, stylise

# Marked "unsure" in SOURCES.tsv: neither class trains on them (the benchmark reports them).
UNSURE = {"asian_woman_seated.jpg", "latentsync_demo1.mp4", "expressive_lp_d14.mp4"}
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "photo_check"
WORK_SIDE = 512        # base images are brought to at most this long side (the noise features' scale)
REAL_DEGRADED = 2      # degraded copies of each real image
STYLED = 3             # stylised copies of each real image (each degraded half the time)


def identity_of(name: str) -> str:
    stem = Path(name).stem
    return SAME_PERSON.get(stem, stem)


def _fit_side(rgb: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = side / max(h, w)
    if s >= 1:
        return rgb
    return cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def video_frames(path: Path, n: int) -> list[np.ndarray]:
    """`n` frames spread evenly over the video."""
    with av.open(str(path)) as c:
        total = c.streams.video[0].frames or 0
        if total <= 0:
            total = sum(1 for _ in c.decode(video=0))
            c.seek(0)
        want = set(np.linspace(0, total - 1, n).round().astype(int).tolist())
        out = []
        for i, frame in enumerate(c.decode(video=0)):
            if i in want:
                out.append(frame.to_ndarray(format="rgb24"))
            if len(out) == len(want):
                break
    return out


def real_images(corpus: Path, frames_per_video: int) -> list[tuple[str, str, np.ndarray]]:
    """(source name, identity, image) of every real photo and `frames_per_video` frames of each real video."""
    out = []
    for p in sorted((corpus / "photos").iterdir()):
        if p.name not in UNSURE:
            out.append((f"photos/{p.name}", identity_of(p.name), _fit_side(load_image_file(p))))
    for p in sorted((corpus / "videos").glob("*.mp4")):
        if p.name not in UNSURE:
            for k, rgb in enumerate(video_frames(p, frames_per_video)):
                out.append((f"videos/{p.name}#{k}", identity_of(p.name), _fit_side(rgb)))
    return out


def features_at(img: np.ndarray, box: FaceBox, scale: float) -> np.ndarray:
    """Features of a copy whose face is where the original's was: the box scaled with the
    image, the landmarks fitted afresh on the new pixels (cheaper than finding the face again)."""
    box = FaceBox(box.left * scale, box.top * scale, box.right * scale, box.bottom * scale, 0.0)
    return portrait_features(img, landmarks(img, box))


def build_table(images, seed: int, log=print) -> dict:
    """Features of every sample: each real image clean and degraded (label 0), and
    stylised at random strengths (label 1, half of them degraded as well)."""
    rng = np.random.default_rng(seed)
    X, y, groups, kinds, sources = [], [], [], [], []
    styles = sorted(STYLES)
    t0 = time.time()
    for i, (source, ident, rgb) in enumerate(images):
        try:
            face = analyse_face(rgb)
        except InputError:
            continue

        samples = [(rgb, 0, "real")] + [(degrade(rgb, rng)[0], 0, "real_degraded") for _ in range(REAL_DEGRADED)]
        for _ in range(STYLED):
            style = styles[int(rng.integers(len(styles)))]
            img = stylise(rgb, face.landmarks, style, rng)
            samples.append((degrade(img, rng)[0] if rng.random() < 0.5 else img, 1, style))
        for img, label, kind in samples:
            X.append(features_at(img, face.box, img.shape[1] / rgb.shape[1]))
            y.append(label)
            groups.append(ident)
            kinds.append(kind)
            sources.append(source)
        if log and i % 50 == 0:
            log(f"  {i}/{len(images)} images, {len(y)} samples, {time.time() - t0:.0f} s")
    return {"X": np.asarray(X, np.float32), "y": np.asarray(y, np.int64), "groups": np.asarray(groups),
            "kinds": np.asarray(kinds), "sources": np.asarray(sources)}


def out_of_fold(table: dict, folds: int = 6, **params) -> np.ndarray:
    """Each sample scored against a reference made without its person."""
    X, y, g = table["X"], table["y"], table["groups"]
    scores = np.full(len(y), np.nan)
    for train, test in GroupKFold(n_splits=folds).split(X, y, g):
        train = train[y[train] == 0]
        scores[test] = PhotoModel.from_real(X[train], **params).scores(X[test])
    return scores


def summarise(table: dict, scores: np.ndarray, threshold: float) -> dict:
    kinds = table["kinds"]
    out = {}
    for k in sorted(set(kinds.tolist())):
        m = kinds == k
        refused = scores[m] >= threshold
        out[k] = {"n": int(m.sum()), "refused": int(refused.sum()), "refused_share": round(float(refused.mean()), 4),
                  "score_median": round(float(np.median(scores[m])), 4),
                  "score_max": round(float(np.max(scores[m])), 4)}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--frames", type=int, default=12, help="frames taken from each real video")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--threshold", type=float, default=3.2, help="score at and above which a face is refused")
    ap.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="features are kept here between runs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    log = (lambda m: print(m, file=sys.stderr)) if args.json else print
    t0 = time.time()
    cached = args.cache / f"table-{PHOTO_FEATURE_VERSION}-seed{args.seed}-frames{args.frames}.npz"
    if cached.is_file():
        table = dict(np.load(cached))
        log(f"features from {cached}")
    else:
        images = real_images(args.corpus, args.frames)
        log(f"{len(images)} real images (seed {args.seed})")
        table = build_table(images, args.seed, log=log)
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, **table)
    real = table["y"] == 0
    model = PhotoModel.from_real(table["X"][real], threshold=args.threshold)
    model.version = f"{PHOTO_FEATURE_VERSION}/{MODEL_REVISION}/seed{args.seed}"
    oof = out_of_fold(table, tail=model.tail, top=model.top)
    insample = model.scores(table["X"])
    figures = summarise(table, oof, model.threshold)
    worst = int(np.argmax(np.where(real, oof, -1)))
    manifest = {
        "made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": args.seed, "frames_per_video": args.frames, "feature_version": PHOTO_FEATURE_VERSION,
        "model_revision": MODEL_REVISION, "threshold": model.threshold, "tail": model.tail, "top": model.top,
        "cues": {c: {"direction": d, "words": w} for c, (d, w) in CUES.items()},
        "samples": int(len(table["y"])), "real_samples": int(real.sum()), "not_photo_samples": int((~real).sum()),
        "people": int(len(set(table["groups"].tolist()))), "real_sources": sorted(set(table["sources"].tolist())),
        "held_out": "generated/* (the corpus' artwork and AI portraits) and the unsure files: " + ", ".join(
            sorted(UNSURE)),
        "out_of_fold_by_person": figures,
        "in_sample": summarise(table, insample, model.threshold),
        "real_score_quantiles_out_of_fold": {q: round(float(np.quantile(oof[real], float(q))), 3)
                                             for q in ("0.5", "0.9", "0.95", "0.99", "1.0")},
        "real_score_quantiles_in_sample": {q: round(float(np.quantile(insample[real], float(q))), 3)
                                           for q in ("0.5", "0.9", "0.95", "0.99", "1.0")},
        "worst_real_out_of_fold": {"source": str(table["sources"][worst]), "kind": str(table["kinds"][worst]),
                                   "score": round(float(oof[worst]), 4)},
        "software": {"python": _platform.python_version(), "numpy": np.__version__, "opencv": cv2.__version__},
        "seconds": round(time.time() - t0, 1),
    }
    save_model(model, args.out, manifest)
    print(json.dumps({k: manifest[k] for k in ("seed", "threshold", "samples", "people", "out_of_fold_by_person",
                                                "in_sample", "real_score_quantiles_out_of_fold",
                                                "real_score_quantiles_in_sample", "worst_real_out_of_fold",
                                                "seconds")} | {"model": str(args.out)}, indent=None
                     if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
