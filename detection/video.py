"""Reading a clip cheaply: grey frames at a fixed analysis rate and height, plus the
voice track's loudness envelope at the same instants.

Everything downstream works on these samples, so scoring cost grows with the clip's
duration at ANALYSIS_FPS, not with its resolution or frame rate."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from common.errors import UserError, gettext_noop

ANALYSIS_FPS = 12.5      # frames sampled per second
WORK_HEIGHT = 256        # grey frames are scaled to this height
MAX_SECONDS = 120.0      # longer files are scored on their first two minutes
AUDIO_RATE = 16_000


class VideoError(UserError):
    """The file is not a readable video (a clear message for the CLI, the API and the portal)."""
    code = "unreadable_video"


@dataclass
class Samples:
    frames: np.ndarray        # (n, H, W) uint8 grey
    times: np.ndarray         # (n,) seconds
    loudness_db: np.ndarray | None   # (n,) RMS in dB around each sample time; None without sound
    duration: float
    source_size: tuple[int, int]     # (width, height) of the file
    fps: float


def read_samples(path: str | os.PathLike, *, fps: float = ANALYSIS_FPS, height: int = WORK_HEIGHT,
                 max_seconds: float = MAX_SECONDS) -> Samples:
    # The sound is decoded on a second thread while the pictures are (FFmpeg releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        sound = pool.submit(_decode_sound, path, max_seconds)
        frames, times, size, rate = _read_frames(path, fps, height, max_seconds)
        sound = sound.result()
    loudness = _loudness_at(*sound, times) if sound is not None else None
    return Samples(frames, times, loudness, float(times[-1] + 1.0 / fps), size, rate)


def _read_frames(path, fps: float, height: int, max_seconds: float):
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise VideoError(gettext_noop("not a readable video file: %(reason)s"), params={"reason": str(exc)}) from exc
    with container:
        if not container.streams.video:
            raise VideoError(gettext_noop("the file has no video stream"))
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        src_w, src_h = vs.codec_context.width, vs.codec_context.height
        if not src_w or not src_h:
            raise VideoError(gettext_noop("the video stream has no frame size"))
        w = max(2, int(round(src_w * height / src_h)) // 2 * 2)
        rate = float(vs.average_rate or 25.0)
        scaler = VideoReformatter()   # one scaling context for every frame (same pixels as frame.reformat)
        frames, times = [], []
        step = 1.0 / fps
        next_t = 0.0
        try:
            for i, frame in enumerate(container.decode(vs)):
                t = float(frame.time) if frame.time is not None else i / rate
                if t > max_seconds:
                    break
                if t + 0.5 / rate < next_t:
                    continue
                frames.append(scaler.reformat(frame, width=w, height=height, format="gray", threads=1).to_ndarray())
                times.append(t)
                next_t += step
                while next_t <= t:
                    next_t += step
        except av.error.FFmpegError as exc:
            if not frames:
                raise VideoError(gettext_noop("the video stream could not be decoded: %(reason)s"),
                                 params={"reason": str(exc)}) from exc
    if len(frames) < 4:
        raise VideoError(gettext_noop("the video is too short to score (under half a second)"))
    times = np.asarray(times, np.float64)
    times -= times[0]
    return np.stack(frames), times, (src_w, src_h), rate


def _decode_sound(path, max_seconds: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The voice as float32 mono at AUDIO_RATE and its cumulative energy, or None without sound."""
    try:
        with av.open(str(path)) as c:
            if not c.streams.audio:
                return None
            resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
            chunks = []
            total = 0
            for frame in c.decode(c.streams.audio[0]):
                for out in resampler.resample(frame):
                    a = out.to_ndarray().reshape(-1)
                    chunks.append(a)
                    total += a.size
                if total > (max_seconds + 1) * AUDIO_RATE:
                    break
    except av.error.FFmpegError:
        return None
    if not chunks:
        return None
    x = np.concatenate(chunks).astype(np.float32)
    return x, np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])


def _loudness_at(x: np.ndarray, csum: np.ndarray, times: np.ndarray) -> np.ndarray:
    half = int(0.04 * AUDIO_RATE)
    centres = np.clip((times * AUDIO_RATE).astype(int), 0, x.size)
    lo, hi = np.clip(centres - half, 0, x.size), np.clip(centres + half, 0, x.size)
    energy = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
    return (10 * np.log10(energy + 1e-10)).astype(np.float32)
