"""Media helpers shared by the benchmarks and the tests: where the corpus is, a marker
that counts frames, and PNG grids of frames for a person to look at."""
from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"   # real media, beside the project; never copied into it
BENCH_REGISTRY_ID = 2**32 - 1  # a watermark payload the registry never issues


def api_inputs() -> tuple[Path, Path] | None:
    """The photo and voice the API benches submit, or None (said in JSON) without the corpus."""
    photo, audio = CORPUS / "photos/elizabeth_olsen.jpg", CORPUS / "audio/sr_english_en.wav"
    if photo.exists() and audio.exists():
        return photo, audio
    print(json.dumps({"error": f"corpus not found at {CORPUS}"}))
    return None


class CountingMarker:
    """A marker that embeds nothing and counts the frames that passed the watermark
    stage: isolates the engine's speed from the codec's, and shows every frame passed."""

    def __init__(self):
        self.frames = 0

    def mark(self, rgb):
        self.frames += 1
        return rgb


def write_grid(tiles: list[np.ndarray], cols: int, out: Path, *, rows: int | None = None) -> Path:
    """Same-sized RGB tiles in a PNG grid of `cols` columns (black where tiles run out)."""
    rows = rows or max(1, -(-len(tiles) // cols))
    blank = np.zeros_like(tiles[0]) if tiles else np.zeros((1, 1, 3), np.uint8)
    tiles = list(tiles) + [blank] * (rows * cols - len(tiles))
    grid = np.vstack([np.hstack(tiles[r * cols:(r + 1) * cols]) for r in range(rows)])
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    return out


def contact_sheet(video: Path, out: Path, *, cols: int = 6, rows: int = 3, thumb: int = 192,
                  frames: list[int] | None = None) -> Path:
    """A PNG grid of frames spread evenly over the video (or the given frame numbers)."""
    with av.open(str(video)) as c:
        total = c.streams.video[0].frames or 0
        picked = frames or list(np.linspace(0, max(total - 1, 0), cols * rows).round().astype(int))
        want, shots = set(picked), {}
        for i, frame in enumerate(c.decode(video=0)):
            if i in want:
                shots[i] = cv2.resize(frame.to_ndarray(format="rgb24"), (thumb, thumb), interpolation=cv2.INTER_AREA)
            if len(shots) == len(want):
                break
    return write_grid([shots.get(i, np.zeros((thumb, thumb, 3), np.uint8)) for i in picked], cols, out,
                      rows=rows)


def contact_sheet_of_clips(videos: list[Path], out: Path, *, cols: int = 6, thumb: int = 192,
                           at: float = 0.37) -> Path:
    """One frame (at `at` of each clip's length) per video, in a PNG grid."""
    tiles = []
    for video in videos:
        with av.open(str(video)) as c:
            total = c.streams.video[0].frames or 1
            want = int(at * total)
            for i, frame in enumerate(c.decode(video=0)):
                if i == want:
                    tiles.append(cv2.resize(frame.to_ndarray(format="rgb24"), (thumb, thumb),
                                            interpolation=cv2.INTER_AREA))
                    break
    return write_grid(tiles, cols, out)


def mux_frames(out, stream, images) -> None:
    """Encode RGB arrays in order (pts 0, 1, ...) into `stream` of the open container
    `out`, then flush the encoder."""
    for i, img in enumerate(images):
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
        vf.pts = i
        for p in stream.encode(vf):
            out.mux(p)
    for p in stream.encode():
        out.mux(p)
