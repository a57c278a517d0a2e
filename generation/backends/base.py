"""The backend protocol: analyse once, plan motion, render frame by frame.

The pipeline owns everything around it (decoding inputs, the watermark stage, the
encoder, progress, cancellation), so a backend can never emit an unmarked frame:
it only returns pixels to the pipeline."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from ..audio import Audio
from ..controls import Controls
from ..face import FaceAnalysis


@dataclass(frozen=True)
class Analysis:
    """What a backend learnt from the photo and the voice, shared by motion and render."""
    image: np.ndarray            # framed portrait, (height, width, 3) uint8 RGB
    landmarks: np.ndarray        # (68, 2) float32 in the framed image
    face: FaceAnalysis           # detection in the original photo
    audio: Audio                 # mono 16 kHz analysis audio
    fps: int
    frames: int                  # number of video frames for the audio
    extra: dict[str, Any] = field(default_factory=dict)   # backend-specific state


@runtime_checkable
class MotionTrackLike(Protocol):
    def __len__(self) -> int: ...
    def frame(self, i: int) -> dict[str, float]: ...


class MotionSource(Protocol):
    """Plans per-frame motion parameters (procedural or learned)."""
    name: str

    def plan(self, analysis: Analysis, controls: Controls) -> MotionTrackLike: ...


@runtime_checkable
class Backend(Protocol):
    name: str
    version: str

    def analyse(self, photo_rgb: np.ndarray, audio: Audio, controls: Controls) -> Analysis: ...

    def motion(self, analysis: Analysis, controls: Controls) -> MotionTrackLike: ...

    def render(self, analysis: Analysis, track: MotionTrackLike, indices: Sequence[int]) -> list[np.ndarray]:
        """RGB uint8 frames (height, width, 3) for `indices` of `track`, in order."""
        ...
