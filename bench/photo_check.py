"""The enrolment photo check on the corpus: `python -m bench.photo_check [--seed S] --json`.

Runs the shipped model (detection.photo_check) the way enrolment does (decode, dlib face,
68 landmarks, features, score) on:
  corpus     every file of photos/ and generated/, with its verdict and score; the
             generated/ files were never in the model's training set;
  degraded   each real photo and `--frames` frames of each real video, each degraded
             `--copies` times (JPEG quality 40-95, downscaled 0.3-1.0, drawn from `--seed`):
             refusals of these are false refusals; faces the detector no longer finds
             are counted apart (that is the face finder's limit, not this check's);
and prints one JSON object. `--sheet PNG` writes a contact sheet of the corpus verdicts.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from bench.media import CORPUS, write_grid
from detection.photo_check import check_photo, shipped_model
from detection.photo_train import UNSURE, video_frames
from detection.stylise import degrade
from generation.errors import InputError
from generation.face import analyse_face
from generation.images import load_image_file

ARTWORK = {"sd_portrait_art16.png", "sd_portrait_art18.png", "cartoon_3d_boy.jpg", "anime_man_musetalk.jpeg"}


def expected(rel: str, provenance: dict) -> str:
    """What the check should say: "accept" for real photos, "refuse" for artwork and
    cartoons, "unsure" for AI-made photo-like portraits and unsure photos."""
    name = Path(rel).name
    if name in ARTWORK:
        return "refuse"
    if provenance.get(rel) == "real":
        return "accept"
    return "unsure"


def provenance_of(corpus: Path) -> dict:
    with open(corpus / "SOURCES.tsv", newline="") as fh:
        return {row["file"]: row["real_or_generated"] for row in csv.DictReader(fh, delimiter="\t")}


def judge(rgb: np.ndarray) -> dict:
    try:
        face = analyse_face(rgb)
    except InputError as exc:
        return {"face": False, "error": exc.code}
    v = check_photo(rgb, face.landmarks)
    return {"face": True, "photograph": v.photograph, "score": round(v.score, 4), "box": face.box.as_list()}


def tile(rgb: np.ndarray, text: str, colour, box=None, size: int = 160) -> np.ndarray:
    if box is not None:
        x0, y0, x1, y1 = box
        pad = 0.6 * (x1 - x0)
        h, w = rgb.shape[:2]
        rgb = rgb[max(0, int(y0 - pad)):min(h, int(y1 + pad)), max(0, int(x0 - pad)):min(w, int(x1 + pad))]
    h, w = rgb.shape[:2]
    s = size / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.zeros((size + 36, size, 3), np.uint8)
    out[:small.shape[0], :small.shape[1]] = small
    cv2.rectangle(out, (0, 0), (size - 1, size + 35), colour, 3)
    for k, line in enumerate(text.split("\n")):
        cv2.putText(out, line, (4, size + 14 + 14 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255, 255, 255), 1)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--seed", type=int, default=None, help="degradation seed (random when left out; printed)")
    ap.add_argument("--copies", type=int, default=6, help="degraded copies of each real image")
    ap.add_argument("--frames", type=int, default=4, help="frames of each real video")
    ap.add_argument("--sheet", type=Path, default=None, help="write a contact sheet of the corpus verdicts here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not (args.corpus / "photos").is_dir():
        print(json.dumps({"error": f"no corpus at {args.corpus}"}))
        return 2
    seed = args.seed if args.seed is not None else int(np.random.default_rng().integers(1 << 31))
    rng = np.random.default_rng(seed)
    model = shipped_model()
    prov = provenance_of(args.corpus)
    t0 = time.time()

    corpus, tiles = [], []
    for folder in ("photos", "generated"):
        for p in sorted((args.corpus / folder).iterdir()):
            rel = f"{folder}/{p.name}"
            rgb = load_image_file(p)
            r = {"file": rel, "expected": expected(rel, prov), **judge(rgb)}
            r["verdict"] = ("no face" if not r["face"] else "accepted" if r["photograph"] else "refused")
            corpus.append(r)
            colour = (0, 160, 0) if r["verdict"] == "accepted" else (200, 0, 0)
            tiles.append(tile(rgb, f"{p.name[:24]}\n{r['verdict']} {r.get('score', '')}", colour, r.get("box")))

    reals = [(f"photos/{p.name}", load_image_file(p)) for p in sorted((args.corpus / "photos").iterdir())
             if prov.get(f"photos/{p.name}") == "real"]
    for p in sorted((args.corpus / "videos").glob("*.mp4")):
        if p.name not in UNSURE and prov.get(f"videos/{p.name}") == "real":
            reals += [(f"videos/{p.name}#{k}", f) for k, f in enumerate(video_frames(p, args.frames))]
    degraded = {"copies": 0, "refused": 0, "no_face": 0, "clean_refused": 0, "clean_images": len(reals)}
    worst, refusals = None, []
    for source, rgb in reals:
        clean = judge(rgb)
        if clean["face"] and not clean["photograph"]:
            degraded["clean_refused"] += 1
            refusals.append({"source": source, "degradation": None, "score": clean["score"]})
        for _ in range(args.copies):
            img, params = degrade(rgb, rng)
            r = judge(img)
            degraded["copies"] += 1
            if not r["face"]:
                degraded["no_face"] += 1
                continue
            if not r["photograph"]:
                degraded["refused"] += 1
                refusals.append({"source": source, "degradation": params, "score": r["score"]})
            if worst is None or r["score"] > worst["score"]:
                worst = {"source": source, "degradation": params, "score": r["score"]}
    judged = degraded["copies"] - degraded["no_face"]
    degraded["false_refusal_rate"] = round(degraded["refused"] / judged, 4) if judged else None

    def names(kind, verdict):
        return [r["file"] for r in corpus if r["expected"] == kind and r["verdict"] == verdict]

    n_real = sum(r["expected"] == "accept" for r in corpus)
    out = {
        "seed": seed, "model_version": model.version, "threshold": model.threshold,
        "summary": {
            "artwork_refused": f"{len(names('refuse', 'refused'))}/{len(ARTWORK)}",
            "real_photos_accepted": f"{len(names('accept', 'accepted'))}/{n_real}",
            "refused": [r["file"] for r in corpus if r["verdict"] == "refused"],
            "accepted": [r["file"] for r in corpus if r["verdict"] == "accepted"],
            "no_face": [r["file"] for r in corpus if r["verdict"] == "no face"],
        },
        "corpus": [{k: v for k, v in r.items() if k != "box"} for r in corpus],
        "degraded_real": degraded, "worst_real": worst, "real_refusals": refusals[:20],
        "seconds": round(time.time() - t0, 1),
    }
    if args.sheet:
        write_grid(tiles, 6, args.sheet)
        out["sheet"] = str(args.sheet)
    print(json.dumps(out, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
