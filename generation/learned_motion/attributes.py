"""The control attributes the motion model is conditioned on, measured from a real
motion window in training and derived from the user's controls when generating.

emotion -> the window's mean smile and brow (the procedural engine's per-emotion
offsets); gaze -> the window's mean head direction; head motion -> how much the
head moves within the window (1 = the corpus' typical amount)."""
from __future__ import annotations

import numpy as np

from ..controls import Controls
from ..motion import EMOTION_OFFSETS

GAZE_YAW_DEG = 10.0      # gaze x = 1 turns the head this far towards the subject's left
GAZE_PITCH_DEG = 8.0     # gaze y = 1 lifts the nose this far


def head_intensity(motion: np.ndarray) -> float:
    """Mean standard deviation of yaw, pitch and roll over a window (degrees)."""
    return float(np.mean(np.std(motion[:, 4:7], axis=0)))


def measure(motion: np.ndarray) -> np.ndarray:
    """(5,) attributes of one (W, 7) motion window in engine units."""
    return np.array([motion[:, 1].mean(), motion[:, 2].mean(), motion[:, 4].mean() / GAZE_YAW_DEG,
                     motion[:, 5].mean() / GAZE_PITCH_DEG, head_intensity(motion)], np.float32)


def from_controls(controls: Controls, typical_intensity: float) -> np.ndarray:
    smile0, brow0, _ = EMOTION_OFFSETS[controls.emotion]
    gx, gy = controls.gaze
    return np.array([smile0, brow0, gx, -gy, controls.head_motion * typical_intensity], np.float32)
