"""The default CPU engine: procedural motion and a landmark-driven dense warp."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..audio import Audio, frame_count, loudness_per_frame
from ..controls import Controls
from ..face import analyse_face
from ..framing import frame_portrait
from ..motion import motion_from_loudness
from ..rig import PortraitRig
from .base import Analysis, MotionTrackLike


class WarpBackend:
    name = "warp"
    version = "0.1.0"

    def __init__(self, motion: str = "procedural"):
        from . import MOTIONS
        if motion not in MOTIONS:
            from ..errors import InvalidControl
            raise InvalidControl(f"motion must be one of {', '.join(MOTIONS)}", field="motion")
        self.motion_name = motion
        self.motion_source = None
        if motion == "learned":   # torch is imported only when learned motion is asked for
            from ..learned_motion.source import LearnedMotion
            self.motion_source = LearnedMotion()

    def analyse(self, photo_rgb: np.ndarray, audio: Audio, controls: Controls) -> Analysis:
        face = analyse_face(photo_rgb)
        framed = frame_portrait(photo_rgb, face, controls.size)
        n = frame_count(audio.duration, controls.fps)
        return Analysis(image=framed.image, landmarks=framed.landmarks, face=face, audio=audio,
                        fps=controls.fps, frames=n,
                        extra={"rig": PortraitRig(framed.image, framed.landmarks)})

    def motion(self, analysis: Analysis, controls: Controls) -> MotionTrackLike:
        if self.motion_source is not None:
            return self.motion_source.plan(analysis, controls)
        loud = loudness_per_frame(analysis.audio.mono, analysis.audio.sample_rate, controls.fps)
        return motion_from_loudness(loud, controls)

    def render(self, analysis: Analysis, track: MotionTrackLike, indices: Sequence[int]) -> list[np.ndarray]:
        rig: PortraitRig = analysis.extra["rig"]
        return [rig.render(track.frame(i)) for i in indices]
