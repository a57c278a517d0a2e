"""The generation pipeline: analyse the photo and the voice, render frames, pass
each through the watermark stage, encode."""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import av
import numpy as np

from .audio import AudioStream, LazyAudio
from .backends import DEFAULT_BACKEND, Backend, get_backend
from .controls import Controls
from .encode import ConcurrentEncoder, FrameMarker, Mp4Writer, WatermarkStage
from .images import load_image_file
from .voice import analyse_voice

ENGINE_NAME = "veritalk-warp"
ENGINE_VERSION = "0.2.0"
ENCODE_PRESET = "superfast"   # measured in bench/generation.py: see docs/benchmarks.md
ENCODE_CRF = 20

ProgressFn = Callable[[int, int], None]
STOP_EVERY = 25       # frames between consent re-checks (`should_stop` may hit the database)
PROGRESS_EVERY = 10   # frames between progress reports


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
    backend: str = DEFAULT_BACKEND
    backend_version: str = ""


def generate_video(photo: str | os.PathLike, audio: str | os.PathLike, out: str | os.PathLike, *,
                   marker: FrameMarker, controls: Controls | None = None,
                   progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
                   max_audio_seconds: float | None = None,
                   backend: str | Backend | None = None, backend_options: dict | None = None,
                   batch: int = 1, preset: str = ENCODE_PRESET, crf: int = ENCODE_CRF,
                   concurrent: bool = True) -> GenerationResult:
    """Render a talking-portrait MP4 to `out`. Every frame goes through `marker`.

    `backend` is a registered name (see `generation.backends`) or a backend object;
    by default the controls' backend, with the controls' motion for the warp engine.
    Whatever it is, its frames reach the encoder only through the watermark stage.
    The voice is read twice in blocks (analysis, then muxing) and frames go straight
    to the stage and the encoder (on a second thread when `concurrent`), so memory
    does not grow with the length of the audio."""
    controls = controls or Controls()
    if backend is None:
        backend = controls.backend
        if backend == DEFAULT_BACKEND:
            backend_options = {"motion": controls.motion, **(backend_options or {})}
    started = time.perf_counter()
    stage = WatermarkStage(marker)
    engine = get_backend(backend, **(backend_options or {})) if isinstance(backend, str) else backend
    rgb = load_image_file(photo)
    stream = AudioStream(audio, max_seconds=max_audio_seconds)
    output_audio = AudioStream(audio, sample_rate=44_100, channels=2 if _is_stereo(audio) else 1,
                               max_seconds=max_audio_seconds)
    # The voice is analysed on a second thread while the backend analyses the photo
    # (pocketsphinx, numpy and dlib release the GIL): both cores busy from the start.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="veritalk-voice") as pool:
        heard = pool.submit(analyse_voice, stream.blocks(), sample_rate=stream.sample_rate, fps=controls.fps,
                            phones=controls.lipsync != "acoustic")
        voice = LazyAudio(stream, analysis=heard)
        try:
            analysis = engine.analyse(rgb, voice, controls)
        finally:
            voice_result = heard.result()     # re-raises the voice's own error, if it had one
    voice.analysis = voice_result
    track = engine.motion(analysis, controls)
    total = len(track)

    writer = Mp4Writer(out, width=controls.width, height=controls.height, fps=controls.fps, audio=output_audio,
                       preset=preset, crf=crf, threads=1 if concurrent else 2)
    posters: list[np.ndarray] = []
    keep_poster = lambda marked: posters.append(marked.pixels.copy())
    sink = ConcurrentEncoder(stage, writer, on_first=keep_poster) if concurrent else None
    try:
        done, checked, reported = 0, -STOP_EVERY, 0
        step = max(1, batch)
        for start in range(0, total, step):
            if should_stop is not None and done - checked >= STOP_EVERY:
                checked = done
                if should_stop():
                    raise Cancelled("generation stopped on request")
            for pixels in engine.render(analysis, track, range(start, min(total, start + step))):
                if sink is not None:
                    sink.put(pixels)
                else:
                    marked = stage(pixels)
                    if not posters:
                        keep_poster(marked)
                    writer.write(marked)
                done += 1
            if progress is not None and (done - reported >= PROGRESS_EVERY or done == total):
                reported = done
                progress(done, total)
        if sink is not None:
            sink.finish()
        else:
            writer.close()
    except BaseException:
        if sink is not None:
            sink.abort()
        else:
            writer.abort()
        raise
    return GenerationResult(path=Path(out), frames=total, width=controls.width, height=controls.height,
                            fps=controls.fps, audio_seconds=voice.duration,
                            seconds=time.perf_counter() - started, poster=posters[0] if posters else None,
                            engine=f"veritalk-{engine.name}", backend=engine.name, backend_version=engine.version)


def _is_stereo(path) -> bool:
    with av.open(str(path)) as c:
        return bool(c.streams.audio) and c.streams.audio[0].codec_context.channels >= 2
