"""The generation pipeline: analyse the photo and the voice, render frames, pass
each through the watermark stage, encode."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .audio import decode_audio, loudness_per_frame
from .controls import Controls
from .encode import FrameMarker, Mp4Writer, WatermarkStage
from .face import analyse_face
from .framing import frame_portrait
from .images import load_image_file
from .motion import motion_from_loudness
from .rig import PortraitRig

ENGINE_NAME = "veritalk-warp"
ENGINE_VERSION = "0.1.0"

ProgressFn = Callable[[int, int], None]


class Cancelled(Exception):
    """Raised when the caller's `should_stop` asks the pipeline to stop."""


@dataclass(frozen=True)
class GenerationResult:
    path: Path
    frames: int
    width: int
    height: int
    fps: int
    audio_seconds: float
    seconds: float
    poster: np.ndarray  # the first watermarked frame (RGB)
    engine: str = ENGINE_NAME
    engine_version: str = ENGINE_VERSION


def generate_video(photo: str | os.PathLike, audio: str | os.PathLike, out: str | os.PathLike, *,
                   marker: FrameMarker, controls: Controls | None = None,
                   progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
                   max_audio_seconds: float | None = None) -> GenerationResult:
    """Render a talking-portrait MP4 to `out`. Every frame goes through `marker`."""
    controls = controls or Controls()
    started = time.perf_counter()
    stage = WatermarkStage(marker)
    rgb = load_image_file(photo)
    face = analyse_face(rgb)
    framed = frame_portrait(rgb, face, controls.size)
    rig = PortraitRig(framed.image, framed.landmarks)

    analysis = decode_audio(audio, max_seconds=max_audio_seconds)
    output_audio = decode_audio(audio, sample_rate=44_100, channels=2 if _is_stereo(audio) else 1,
                                max_seconds=max_audio_seconds)
    loud = loudness_per_frame(analysis.mono, analysis.sample_rate, controls.fps)
    track = motion_from_loudness(loud, controls)
    total = len(track)

    writer = Mp4Writer(out, width=controls.size, height=controls.size, fps=controls.fps, audio=output_audio)
    poster = None
    try:
        for i in range(total):
            if should_stop is not None and i % 25 == 0 and should_stop():
                raise Cancelled("generation stopped on request")
            marked = stage(rig.render(track.frame(i)))
            if poster is None:
                poster = marked.pixels.copy()
            writer.write(marked)
            if progress is not None and (i % 10 == 9 or i == total - 1):
                progress(i + 1, total)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return GenerationResult(path=Path(out), frames=total, width=controls.size, height=controls.size,
                            fps=controls.fps, audio_seconds=analysis.duration,
                            seconds=time.perf_counter() - started, poster=poster)


def _is_stereo(path) -> bool:
    import av
    with av.open(str(path)) as c:
        return bool(c.streams.audio) and c.streams.audio[0].codec_context.channels >= 2
