"""Per-frame motion parameters from the voice track and the controls.

A first, simple model: loudness opens the jaw, random blinks, a smooth head
sway, and an expression offset per emotion. Deterministic for a given seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .controls import Controls

# (smile, brow raise, extra jaw opening) per emotion
EMOTION_OFFSETS = {
    "neutral": (0.0, 0.0, 0.0),
    "happy": (0.7, 0.15, 0.0),
    "sad": (-0.5, -0.3, 0.0),
    "angry": (-0.2, -0.8, 0.0),
    "surprised": (0.0, 1.0, 0.15),
}


@dataclass(frozen=True)
class MotionTrack:
    jaw: np.ndarray     # 0..1 mouth opening
    smile: np.ndarray   # -1..1 (negative: corners down)
    brow: np.ndarray    # -1..1 (negative: frown)
    blink: np.ndarray   # 0..1 eyelid closure
    yaw: np.ndarray     # degrees
    pitch: np.ndarray   # degrees
    roll: np.ndarray    # degrees

    def __len__(self) -> int:
        return len(self.jaw)

    def frame(self, i: int) -> dict[str, float]:
        return {k: float(getattr(self, k)[i]) for k in ("jaw", "smile", "brow", "blink", "yaw", "pitch", "roll")}


def _smooth_attack_release(x: np.ndarray, attack: float, release: float) -> np.ndarray:
    out = np.empty_like(x)
    y = 0.0
    for i, v in enumerate(x):
        k = attack if v > y else release
        y = y + k * (v - y)
        out[i] = y
    return out


def jaw_from_loudness(loudness_db: np.ndarray) -> np.ndarray:
    """Map frame loudness to a 0..1 jaw opening, relative to the clip's own range."""
    floor = np.percentile(loudness_db, 10)
    peak = np.percentile(loudness_db, 97)
    floor = max(floor, peak - 45.0)             # quiet noise floor on clean recordings
    span = max(peak - floor, 6.0)
    x = np.clip((loudness_db - floor - 0.15 * span) / (0.85 * span), 0.0, 1.0)
    x = _smooth_attack_release(x.astype(np.float32), attack=0.75, release=0.45)
    return np.clip(x, 0.0, 1.0) ** 0.8


def _smooth_noise(n: int, rng: np.random.Generator, period_frames: float) -> np.ndarray:
    """Band-limited noise with unit standard deviation (sum of random sines)."""
    t = np.arange(n, dtype=np.float64)
    out = np.zeros(n)
    for _ in range(4):
        f = rng.uniform(0.5, 1.5) / period_frames
        out += np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) * rng.uniform(0.6, 1.0)
    return (out / (np.std(out) + 1e-9)).astype(np.float32)


def blinks(n: int, fps: int, rate_per_min: float, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n, np.float32)
    if rate_per_min <= 0:
        return out
    mean_gap = 60.0 * fps / rate_per_min
    t = rng.uniform(0.3, 1.0) * mean_gap
    while t < n:
        dur = rng.uniform(0.10, 0.22) * fps     # 100-220 ms
        start = int(t)
        for k in range(int(np.ceil(dur)) + 1):
            if start + k < n:
                phase = k / dur
                out[start + k] = max(out[start + k], np.sin(np.pi * min(phase, 1.0)))
        t += max(dur + 2, rng.exponential(mean_gap))
    return out


def motion_from_loudness(loudness_db: np.ndarray, controls: Controls) -> MotionTrack:
    n = len(loudness_db)
    rng = np.random.default_rng(controls.seed)
    scale = controls.expression_scale
    smile0, brow0, jaw0 = EMOTION_OFFSETS[controls.emotion]
    jaw = np.clip((jaw_from_loudness(loudness_db) + jaw0) * scale, 0.0, 1.0)
    brow_noise = 0.15 * _smooth_noise(n, rng, 2.5 * controls.fps)
    smile = np.clip(np.full(n, smile0 * scale, np.float32), -1, 1)
    brow = np.clip(brow0 * scale + brow_noise * scale + 0.3 * scale * np.maximum(jaw - 0.6, 0), -1, 1)
    blink = blinks(n, controls.fps, controls.blink_rate, rng)
    hm = controls.head_motion
    speech = np.convolve(jaw, np.ones(12) / 12, mode="same")
    yaw = hm * 3.0 * _smooth_noise(n, rng, 3.0 * controls.fps)
    pitch = hm * (1.5 * _smooth_noise(n, rng, 2.0 * controls.fps) + 2.0 * (speech - speech.mean()))
    roll = hm * 1.2 * _smooth_noise(n, rng, 4.0 * controls.fps)
    return MotionTrack(jaw=jaw.astype(np.float32), smile=smile.astype(np.float32), brow=brow.astype(np.float32),
                       blink=blink, yaw=yaw.astype(np.float32), pitch=pitch.astype(np.float32),
                       roll=roll.astype(np.float32))
