"""The default CPU engine: procedural motion and a landmark-driven dense warp."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..audio import Audio
from ..controls import Controls, control
from ..face import analyse_face
from ..framing import frame_portrait
from ..motion import plan_motion
from ..rig import FramedRig
from ..voice import VoiceAnalysis, analyse_voice
from .base import Analysis, MotionTrackLike


def voice_analysis(audio, fps: int, lipsync: str) -> VoiceAnalysis:
    """The pipeline's streamed first pass when there was one, else computed here."""
    heard = getattr(audio, "analysis", None)
    if heard is not None and (heard.phones is not None or lipsync == "acoustic"):
        return heard
    blocks = audio.blocks() if hasattr(audio, "blocks") else [audio.mono]
    return analyse_voice(blocks, sample_rate=audio.sample_rate, fps=fps, phones=lipsync != "acoustic")


class WarpBackend:
    name = "warp"
    version = "0.2.0"

    def __init__(self, motion: str = "procedural"):
        self.motion_name = control("motion").check(motion)
        self.motion_source = None
        if motion == "learned":   # torch is imported only when learned motion is asked for
            from ..learned_motion.source import LearnedMotion  # noqa: PLC0415 - heavy (torch): only when learned motion is asked for
            self.motion_source = LearnedMotion()

    def analyse(self, photo_rgb: np.ndarray, audio: Audio, controls: Controls) -> Analysis:
        face = analyse_face(photo_rgb)
        framed = frame_portrait(photo_rgb, face, (controls.width, controls.height))
        heard = voice_analysis(audio, controls.fps, controls.lipsync)
        return Analysis(image=framed.image, landmarks=framed.landmarks, face=face, audio=audio,
                        fps=controls.fps, frames=len(heard.features),
                        extra={"rig": FramedRig(framed.image, framed.landmarks), "voice": heard,
                               "pose": face.pose})

    def motion(self, analysis: Analysis, controls: Controls) -> MotionTrackLike:
        if self.motion_source is not None:
            return self.motion_source.plan(analysis, controls)
        heard: VoiceAnalysis = analysis.extra.get("voice") or voice_analysis(analysis.audio, controls.fps,
                                                                             controls.lipsync)
        return plan_motion(heard.features, controls, heard.phones, controls.lipsync)

    def render(self, analysis: Analysis, track: MotionTrackLike, indices: Sequence[int]) -> list[np.ndarray]:
        rig: FramedRig = analysis.extra["rig"]
        return [rig.render(track.frame(i)) for i in indices]
