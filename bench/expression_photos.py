"""Portraits taken from frames of the corpus's real videos at their open-mouth and
smiling moments (a real person mid-word is the hardest photo):
`python -m bench.expression_photos [--out DIR] [--per-video 2] --json`.

For each video the first `--seconds` are decoded with PyAV (every 2nd frame, the
shorter side scaled to 512), dlib reads the 68 landmarks, and two frames are kept:
the one with the widest inner-lip gap (relative to the eye distance) and the one
showing the most teeth with raised corners. Frames with no single clear face are
skipped. The PNGs are written to `--out` (never into the corpus)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import av
import cv2
import numpy as np

from bench.media import CORPUS, ROOT, write_grid
from generation.expression import eye_distance, inner_gap, read_expression
from generation.face import detect_faces, landmarks

DEFAULT_OUT = ROOT / "var" / "bench" / "expression_photos"


def _frames(video: Path, seconds: float, step: int = 2, short: int = 512):
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        fps = float(stream.average_rate or 25)
        for i, frame in enumerate(c.decode(stream)):
            if i / fps >= seconds:
                return
            if i % step:
                continue
            rgb = frame.to_ndarray(format="rgb24")
            s = short / min(rgb.shape[:2])
            if s < 1:
                rgb = cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
            yield i, rgb


def moments(video: Path, seconds: float = 8.0) -> dict[str, tuple[int, np.ndarray, dict]]:
    """{"open": (frame index, RGB, expression), "smile": ...} of one video."""
    best: dict[str, tuple[float, int, np.ndarray, dict]] = {}
    for i, rgb in _frames(video, seconds):
        boxes = detect_faces(rgb)
        if len(boxes) != 1 or boxes[0].width < 90:
            continue
        lm = landmarks(rgb, boxes[0])
        ex = read_expression(rgb, lm)
        gap = float(np.mean(inner_gap(lm))) / eye_distance(lm)
        scores = {"open": gap, "smile": ex.teeth * max(ex.smile + 0.05, 0.0) * (gap > 0.02)}
        for name, score in scores.items():
            if score > best.get(name, (-1.0,))[0]:
                best[name] = (score, i, rgb, ex.as_dict())
    return {k: (v[1], v[2], v[3]) for k, v in best.items() if v[0] > 0}


def extract(out: Path, seconds: float = 8.0, videos: list[Path] | None = None) -> list[dict]:
    """Writes the portraits, returns one row per portrait (path, video, frame, expression)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for video in videos if videos is not None else sorted((CORPUS / "videos").glob("*.mp4")):
        for moment, (i, rgb, ex) in moments(video, seconds).items():
            path = out / f"{video.stem}-{moment}-f{i}.png"
            cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            rows.append({"photo": str(path), "video": video.name, "moment": moment, "frame": i, "expression": ex})
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def sheet(rows: list[dict], out: Path, thumb: int = 192) -> Path:
    """The mouths of the extracted portraits, labelled with what was read from them."""
    tiles = []
    for r in rows:
        rgb = cv2.cvtColor(cv2.imread(r["photo"]), cv2.COLOR_BGR2RGB)
        boxes = detect_faces(rgb)
        lm = landmarks(rgb, boxes[0])
        c = lm[48:68].mean(axis=0)
        half = int(1.1 * np.linalg.norm(lm[54] - lm[48])) + 4
        x0, y0 = int(max(c[0] - half, 0)), int(max(c[1] - half, 0))
        tile = cv2.resize(rgb[y0:int(c[1] + half), x0:int(c[0] + half)], (thumb, thumb))
        ex = r["expression"]
        cv2.putText(tile, f"{ex['kind']} {ex['opening']:.2f} t{ex['teeth']:.2f}", (4, thumb - 8),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1, cv2.LINE_AA)
        tiles.append(tile)
    return write_grid(tiles, 6, out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    rows = extract(a.out, a.seconds)
    result = {"portraits": rows, "sheet": str(sheet(rows, a.out / "mouths.png"))}
    print(json.dumps(result) if a.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
