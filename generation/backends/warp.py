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
        if motion != "procedural":
            from . import MOTIONS
            from ..errors import InvalidControl
            if motion not in MOTIONS:
                raise InvalidControl(f"motion must be one of {', '.join(MOTIONS)}", field="motion")
            raise InvalidControl(f"motion {motion!r} is not available yet", field="motion")
        self.motion_name = motion

    def analyse(self, photo_rgb: np.ndarray, audio: Audio, controls: Controls) -> Analysis:
        face = analyse_face(photo_rgb)
        framed = frame_portrait(photo_rgb, face, controls.size)
        n = frame_count(audio.duration, controls.fps)
        return Analysis(image=framed.image, landmarks=framed.landmarks, face=face, audio=audio,
                        fps=controls.fps, frames=n,
                        extra={"rig": PortraitRig(framed.image, framed.landmarks)})

    def motion(self, analysis: Analysis, controls: Controls) -> MotionTrackLike:
        loud = loudness_per_frame(analysis.audio.mono, analysis.audio.sample_rate, controls.fps)
        return motion_from_loudness(loud, controls)

    def render(self, analysis: Analysis, track: MotionTrackLike, indices: Sequence[int]) -> list[np.ndarray]:
        rig: PortraitRig = analysis.extra["rig"]
        return [rig.render(track.frame(i)) for i in indices]
