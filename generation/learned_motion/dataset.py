"""Motion tracks extracted from real talking videos with dlib: what the learned
motion model is trained on and what both motion sources are compared against.

Per frame: jaw opening (inner-lip gap), smile (mouth width), brow raise, blink
(eye aspect ratio) and head pose (solvePnP on six landmarks), each expressed in
the units of the engine's MotionTrack (see generation.motion and generation.rig)
relative to the clip's own neutral (median) face, resampled to 25 fps. Tracks are
cached as .npz under a gitignored folder, keyed by the video's sha256."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import dlib
import numpy as np

from common.files import sha256_file

from ..audio import decode_audio, loudness_per_frame
from ..face import models_dir
from .evaluate import blink_events
from .features import frame_features

FPS = 25
PARAMS = ("jaw", "smile", "brow", "blink", "yaw", "pitch", "roll")   # MotionTrack's fields
EXTRACT_VERSION = "3"   # 3: frames made contiguous before dlib reads them (2 could misread padded rows)
ROOT = Path(__file__).resolve().parents[2]
CORPUS_VIDEOS = ROOT.parent / "shared" / "corpus" / "videos"
CACHE_DIR = ROOT / "var" / "learned_motion" / "tracks"

# A generic 3D face (mm) in camera-like axes: x to the image right, y down, z away from
# the camera; the nose tip is the origin. Landmarks: nose, chin, eye corners, mouth corners.
_MODEL_IDS = [30, 8, 36, 45, 48, 54]
_MODEL_3D = np.array([[0.0, 0.0, 0.0], [0.0, 63.6, 12.5], [-43.3, -32.7, 26.0], [43.3, -32.7, 26.0],
                      [-28.9, 28.9, 24.1], [28.9, 28.9, 24.1]], np.float64)


@dataclass(frozen=True)
class VideoTrack:
    name: str
    motion: np.ndarray      # (n, 7) float32 in PARAMS order
    audio: np.ndarray       # (n, FEATURE_DIM) float32 log-mel features
    loudness: np.ndarray    # (n,) dBFS per frame
    valid: np.ndarray       # (n,) bool: a face was found in this frame
    blink_ok: bool = True   # the blink channel is plausible (see blink_reliable)
    source: str = ""        # the video file

    def __len__(self) -> int:
        return len(self.motion)


def _read_frames(path: Path):
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        for frame in c.decode(stream):
            # dlib reads the buffer as packed rows: a padded (strided) frame would be misread.
            yield float(frame.time), np.ascontiguousarray(frame.to_ndarray(format="rgb24"))


def _head_pose(lm: np.ndarray, w: int, h: int) -> tuple[float, float]:
    """Yaw (nose towards the image right is positive) and pitch (nose down is positive), degrees."""
    cam = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], np.float64)
    # Start from a frontal pose at the distance the eye corners suggest: without a guess
    # the iterative solver sometimes lands on the mirrored solution.
    z0 = w * 86.6 / max(float(np.linalg.norm(lm[45] - lm[36])), 1.0)
    rvec0 = np.zeros((3, 1))
    tvec0 = np.array([[(lm[30, 0] - w / 2) * z0 / w], [(lm[30, 1] - h / 2) * z0 / w], [z0]])
    ok, rvec, _ = cv2.solvePnP(_MODEL_3D, lm[_MODEL_IDS].astype(np.float64), cam, None, rvec0, tvec0,
                               useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return 0.0, 0.0
    r, _ = cv2.Rodrigues(rvec)
    forward = -r[:, 2]          # the face's forward direction (towards the camera at rest)
    return (float(np.degrees(np.arctan2(forward[0], -forward[2]))),
            float(np.degrees(np.arctan2(forward[1], -forward[2]))))


def _raw_measures(lm: np.ndarray, w: int, h: int) -> np.ndarray:
    """Unnormalised per-frame measures: gap, mouth width, brow height, EAR, yaw, pitch, roll, face width."""
    face_w = float(np.linalg.norm(lm[16] - lm[0]))
    gap = float(np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in ((61, 67), (62, 66), (63, 65))]))
    mouth_w = float(np.linalg.norm(lm[54] - lm[48]))
    brow = float(np.mean(lm[36:48, 1]) - np.mean(lm[17:27, 1]))

    def ear(e):
        return (np.linalg.norm(e[1] - e[5]) + np.linalg.norm(e[2] - e[4])) / (2 * np.linalg.norm(e[0] - e[3]) + 1e-6)

    eye = float((ear(lm[36:42]) + ear(lm[42:48])) / 2)
    yaw, pitch = _head_pose(lm, w, h)
    roll = float(np.degrees(np.arctan2(lm[45, 1] - lm[36, 1], lm[45, 0] - lm[36, 0])))
    return np.array([gap, mouth_w, brow, eye, yaw, pitch, roll, face_w], np.float64)


def landmark_series(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """Times, raw measures per frame (NaN where no face) and the validity mask."""
    detector = dlib.get_frontal_face_detector()
    shape = dlib.shape_predictor(str(models_dir() / "shape_predictor_68_face_landmarks.dat"))
    times, rows, box, size = [], [], None, (0, 0)
    for i, (t, rgb) in enumerate(_read_frames(path)):
        h, w = rgb.shape[:2]
        size = (w, h)
        up = 1 if max(h, w) < 400 else 0
        if box is None or i % 5 == 0:       # re-detect every 5 frames; landmarks every frame
            rects = detector(rgb, up)
            if len(rects):
                box = max(rects, key=lambda r: r.width() * r.height())
        if box is None:
            times.append(t); rows.append(np.full(8, np.nan)); continue
        pts = shape(rgb, box)
        lm = np.array([[p.x, p.y] for p in pts.parts()], np.float64)
        times.append(t); rows.append(_raw_measures(lm, w, h))
        # follow the face between detections with the landmarks' bounding box
        x0, y0 = lm[:, 0].min(), lm[:, 1].min()
        x1, y1 = lm[:, 0].max(), lm[:, 1].max()
        pad = 0.12 * (x1 - x0)
        box = dlib.rectangle(int(x0 - pad), int(y0 - 2.5 * pad), int(x1 + pad), int(y1 + 0.5 * pad))
    raw = np.array(rows)
    for k in (4, 5):        # a single-frame pose flip is a solver failure, not motion
        v = raw[:, k]
        med = np.array([np.nanmedian(v[max(0, i - 2): i + 3]) for i in range(len(v))])
        raw[:, k] = np.where(np.abs(v - med) > 15.0, med, v)
    return np.array(times), raw, np.isfinite(raw[:, 0]), size


def _median3(v: np.ndarray) -> np.ndarray:
    p = np.pad(v, 1, mode="edge")
    return np.median(np.stack([p[:-2], p[1:-1], p[2:]]), axis=0)


def normalise(raw: np.ndarray) -> np.ndarray:
    """Raw measures -> engine motion parameters, relative to the clip's neutral face.

    jaw: the rig opens the lips by 0.42 mouth widths at jaw=1; smile: the rig widens
    the mouth by 0.18 of its width at smile=1; brow: lifts 0.07 face heights (~0.08
    face widths) at brow=1; blink: eye closure 1 - EAR / open EAR mapped so that a
    landmark closure of 65 % (what dlib reports for a closed eye) is 1; head pose in
    degrees about the clip's median pose."""
    gap, mw, brow, eye, yaw, pitch, roll, fw = raw.T
    med = lambda v: float(np.nanmedian(v))  # noqa: E731
    mw0 = med(mw)
    rest_gap = np.nanpercentile(gap, 5)
    jaw = np.clip((gap - rest_gap) / (0.42 * mw0), 0.0, 1.0)
    smile = np.clip((mw / mw0 - 1.0) / 0.18 + 0.4 * jaw, -1.0, 1.0)   # opening narrows the mouth
    brow_p = np.clip((brow / fw - med(brow / fw)) / 0.08, -1.0, 1.0)
    eye = _median3(np.where(np.isfinite(eye), eye, np.nanmedian(eye)))   # one-frame dips are jitter
    closure = 1.0 - eye / np.nanpercentile(eye, 80)
    blink = np.clip((closure - 0.3) / 0.35, 0.0, 1.0)
    return np.stack([jaw, smile, brow_p, blink, yaw - med(yaw), pitch - med(pitch), roll - med(roll)], axis=1)


def blink_reliable(motion: np.ndarray, max_rate: float = 90.0) -> bool:
    """False where the blink detector fires at an implausible rate (landmark jitter on
    small or flickering faces): such clips' blink channel is treated as unmeasured."""
    return len(blink_events(motion[:, 3])) / (len(motion) / FPS / 60.0) <= max_rate


def _resample(times: np.ndarray, values: np.ndarray, valid: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    t_out = np.arange(n) / FPS
    out = np.zeros((n, values.shape[1]), np.float32)
    good = valid & np.all(np.isfinite(values), axis=1)
    for k in range(values.shape[1]):
        out[:, k] = np.interp(t_out, times[good], values[good, k])
    near = np.interp(t_out, times, good.astype(np.float64)) > 0.5
    return out, near


def extract(path: Path, cache_dir: Path = CACHE_DIR) -> VideoTrack:
    """The motion track and audio features of one real video. The landmark measures
    are cached (the slow part); normalisation runs at load time."""
    path = Path(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / f"{path.stem}.{sha256_file(path)[:16]}.v{EXTRACT_VERSION}.npz"
    if not cached.is_file():
        times, raw, valid, _ = landmark_series(path)
        voice = decode_audio(path)
        n = min(int(np.floor(times[-1] * FPS)) + 1, int(voice.duration * FPS))
        audio = frame_features(voice.mono, n)
        loud = loudness_per_frame(voice.mono, voice.sample_rate, FPS)[:n]
        tmp = cached.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, times=times, raw=raw, valid=valid, audio=audio, loudness=loud)
        tmp.replace(cached)
    d = np.load(cached)
    n = len(d["audio"])
    motion, ok = _resample(d["times"], normalise(d["raw"]), d["valid"], n)
    return VideoTrack(path.stem, motion, d["audio"], d["loudness"], ok, blink_reliable(motion), str(path))


def corpus_videos(folder: Path = CORPUS_VIDEOS) -> list[Path]:
    return sorted(folder.glob("*.mp4")) if folder.is_dir() else []


def load_corpus(folder: Path = CORPUS_VIDEOS, cache_dir: Path = CACHE_DIR, names=None) -> list[VideoTrack]:
    videos = corpus_videos(folder)
    if names is not None:
        videos = [v for v in videos if v.stem in set(names)]
    return [extract(v, cache_dir) for v in videos]


if __name__ == "__main__":   # python -m generation.learned_motion.dataset: fill the cache
    import sys
    import time
    for v in corpus_videos():
        t0 = time.perf_counter()
        tr = extract(v)
        print(f"{v.stem}: {len(tr)} frames, {tr.valid.mean():.2f} valid, {time.perf_counter() - t0:.1f}s",
              file=sys.stderr, flush=True)
