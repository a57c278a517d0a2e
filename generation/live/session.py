"""A live session's engine: voice in, frames out, paced to the clock.

Two threads per session. Frame i shows the media time [i/fps, (i+1)/fps); it is made
once the voice up to LOOKAHEAD past its centre has arrived, and never before the
wall clock reaches that point (a voice sent faster than real time is not turned
into a burst of frames). If the voice is late by more than `max_wait`, the gap is
filled with silence, so the frames keep time with the clock and the voice stays on
the same timeline as the frames (it is muxed frame by frame with them). A frame the
engine cannot make in time is skipped (counted in `dropped`; at most two in a row
unless a second behind): the previous picture stays on screen for longer, so the
stream has no hole and the voice goes on. Rendering runs on the
session's thread, marking and encoding on a second one, so a session can use two
cores.

Every frame goes through the pipeline's watermark stage (generation.encode.
WatermarkStage) before the encoder, which accepts nothing else."""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.signal import firwin, lfilter, lfilter_zi

from ..controls import Controls
from ..encode import FrameMarker, WatermarkStage
from ..errors import InvalidControl, gettext_noop
from ..face import analyse_face
from ..framing import frame_portrait
from ..motion import EMOTION_OFFSETS
from ..rig import PortraitRig
from .motion import LiveMotion
from .mouth import ANALYSIS_RATE, StreamingMouth, lookahead_seconds
from .stream import OUTPUT_RATE, LiveEncoder

log = logging.getLogger(__name__)
ENGINE_NAME = "veritalk-live"
ENGINE_VERSION = "0.1.0"
INPUT_RATES = (16_000, 48_000)
MAX_WAIT = 0.25            # seconds a frame waits for late voice before silence fills in
MAX_BACKLOG = 2.0          # seconds of voice ahead of the clock before the client is refused
# Seconds behind its time after which a frame's picture is skipped. A frame costs about 13 ms
# of the 40 ms it stands for (512 px, bench.live), so after a hiccup of the machine the
# engine catches up by rendering back to back (0.4 s of lag in about half a second) rather
# than by freezing the face; skipping is for a machine that cannot keep up at all.
LAG_TO_DROP = 0.4
MAX_SKIPS = 2              # ... but never more than this many in a row
MAX_LAG = 1.0              # ... unless this far behind

OutputFn = Callable[[str, int, bytes], None]


class VoiceTooFast(Exception):
    """The client sent voice faster than real time (more than MAX_BACKLOG ahead)."""


@dataclass(frozen=True)
class LiveResult:
    """What the platform signs and registers (the fields describe_output reads)."""
    path: Path
    frames: int
    dropped: int
    width: int
    height: int
    fps: int
    audio_seconds: float
    seconds: float
    poster: np.ndarray | None
    reason: str
    busy_ms_per_frame: float = 0.0     # CPU work per frame (render, watermark, encode), wall time
    # the marker's pooled unmarked luma, in memory only (provenance.mark_residual)
    host_mean: np.ndarray | None = field(default=None, compare=False, repr=False)
    engine: str = ENGINE_NAME
    engine_version: str = ENGINE_VERSION
    backend: str = "warp-live"
    backend_version: str = ENGINE_VERSION


class _Rate:
    """Streaming integer-ratio resampling (x3 or /3) with a low-pass FIR that keeps its state."""

    def __init__(self, up: int, down: int):
        self.up, self.down = up, down
        self.taps = firwin(48, 0.9 / max(up, down)) * up
        self.zi = lfilter_zi(self.taps, 1.0) * 0.0
        self.phase = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.up == self.down:
            return x
        if self.up > 1:
            z = np.zeros(len(x) * self.up, np.float64)
            z[:: self.up] = x
            y, self.zi = lfilter(self.taps, 1.0, z, zi=self.zi)
            return y.astype(np.float32)
        y, self.zi = lfilter(self.taps, 1.0, x.astype(np.float64), zi=self.zi)
        out = y[self.phase:: self.down]
        self.phase = (self.phase - len(x)) % self.down
        return out.astype(np.float32)


class LiveEngine:
    def __init__(self, photo_rgb: np.ndarray, *, marker: FrameMarker, recording, on_output: OutputFn,
                 controls: Controls | None = None, input_rate: int = 48_000, max_seconds: float = 600.0,
                 clock: Callable[[], float] = time.monotonic, max_wait: float = MAX_WAIT):
        if input_rate not in INPUT_RATES:
            raise InvalidControl(gettext_noop("the voice's sample rate must be one of %(choices)s Hz"),
                                 field="sample_rate", params={"choices": ", ".join(map(str, INPUT_RATES))})
        self.controls = controls = controls or Controls()
        self.fps, self.size = controls.fps, controls.width
        self.stage = WatermarkStage(marker)            # the pipeline's own watermark stage
        self._marker = marker
        face = analyse_face(photo_rgb)
        framed = frame_portrait(photo_rgb, face, controls.width)
        self.rig = PortraitRig(framed.image, framed.landmarks)
        self.mouth_box = [int(v) for v in self.rig.mouth_box]
        self.landmarks = framed.landmarks
        self.encoder = LiveEncoder(recording, size=controls.width, fps=controls.fps)
        self.mouth = StreamingMouth(controls.fps, expression_scale=controls.expression_scale,
                                    jaw_offset=EMOTION_OFFSETS[controls.emotion][2])
        self.max_frames = int(np.ceil(max_seconds * controls.fps))
        self.motion = LiveMotion(controls, self.max_frames + controls.fps)
        self.lookahead = lookahead_seconds(controls.fps)
        self.input_rate, self.max_wait, self.clock = input_rate, max_wait, clock
        self._to_analysis = _Rate(1, input_rate // ANALYSIS_RATE)
        self._to_output = _Rate(OUTPUT_RATE // input_rate, 1)
        self._out_audio = np.zeros(0, np.float32)       # output voice not yet muxed
        self._out_start = 0                             # output sample index of _out_audio[0]
        self.on_output = on_output
        self._cond = threading.Condition()
        self._pending: deque[np.ndarray] = deque()
        self._pending_samples = 0
        self._stop: str | None = None
        self._thread: threading.Thread | None = None
        self.t0: float | None = None
        self.frames = self.dropped = 0
        self.received_seconds = self.filled_seconds = 0.0
        self.error: BaseException | None = None
        self.reason = ""
        self.poster: np.ndarray | None = None
        self._mouths: deque = deque()
        self._skipped = 0                               # frames skipped in a row
        self._work: queue.Queue = queue.Queue(maxsize=4)
        self.busy_seconds = 0.0                         # render + watermark + encode, both threads
        self._started_wall = 0.0

    # -- the caller's side ----------------------------------------------------------
    def start(self) -> None:
        self.t0 = self.clock()
        self._started_wall = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="veritalk-live", daemon=True)
        self._thread.start()

    def feed(self, pcm: bytes) -> None:
        """Voice from the client: signed 16-bit little-endian mono at `input_rate`."""
        if len(pcm) % 2:
            raise ValueError("voice chunks are 16-bit samples: an even number of bytes")
        samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0
        with self._cond:
            self._pending.append(samples)
            self._pending_samples += len(samples)
            self.received_seconds += len(samples) / self.input_rate
            ahead = self._analysis_samples_after_pending() / ANALYSIS_RATE - (self.clock() - self.t0)
            if ahead > MAX_BACKLOG:
                self._stop = self._stop or "voice_too_fast"
            self._cond.notify()

    def stop(self, reason: str = "stopped") -> None:
        with self._cond:
            self._stop = self._stop or reason
            self._cond.notify()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def result(self) -> LiveResult:
        return LiveResult(path=self.encoder.recording, frames=self.frames, dropped=self.dropped, width=self.size,
                          busy_ms_per_frame=round(1000 * self.busy_seconds / max(self.frames, 1), 2),
                          height=self.size, fps=self.fps, audio_seconds=self.frames / self.fps,
                          seconds=time.perf_counter() - self._started_wall, poster=self.poster, reason=self.reason,
                          host_mean=getattr(self._marker, "host_mean", lambda: None)())

    # -- the engine thread ----------------------------------------------------------
    def _analysis_samples_after_pending(self) -> int:
        return self.mouth.samples + self._pending_samples * ANALYSIS_RATE // self.input_rate

    def _take_pending(self) -> None:
        with self._cond:
            chunks, self._pending, self._pending_samples = list(self._pending), deque(), 0
        for x in chunks:
            self.mouth.feed(self._to_analysis(x))
            self._out_audio = np.concatenate([self._out_audio, self._to_output(x)])

    def _fill_silence(self, analysis_samples: int) -> None:
        missing = analysis_samples - self.mouth.samples
        if missing <= 0:
            return
        self.filled_seconds += missing / ANALYSIS_RATE
        self.mouth.pad_to(analysis_samples)
        self._out_audio = np.concatenate([self._out_audio, np.zeros(missing * (OUTPUT_RATE // ANALYSIS_RATE),
                                                                    np.float32)])

    def _run(self) -> None:
        """The analysis and render loop; marking and encoding run on a second thread
        (`_encode_loop`), so one session can use both cores."""
        encoder = threading.Thread(target=self._encode_loop, name="veritalk-live-encode", daemon=True)
        encoder.start()
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller, which ends the session
            log.exception("live engine failed")
            self.error, self.reason = exc, "engine_error"
        self._work.put(None)
        encoder.join()
        try:
            if self.error is None:
                self.encoder.close()
            else:
                self.encoder.abort()
        except BaseException as exc:  # noqa: BLE001
            self.error, self.reason = exc, "engine_error"
        self.on_output("end", self.frames, b"")

    def _loop(self) -> None:
        i = 0
        per_frame_out = OUTPUT_RATE // self.fps
        while True:
            if i >= self.max_frames:
                self.reason = "max_length"
                return
            if self.error is not None:
                raise self.error
            need = self.mouth.needed_samples(i)
            not_before = self.t0 + need / ANALYSIS_RATE
            deadline = not_before + self.max_wait
            ready_at = not_before      # when the frame could first be made (its voice, its time)
            with self._cond:
                while self._stop is None:
                    now = self.clock()
                    have = self._analysis_samples_after_pending() >= need
                    if (have and now >= not_before) or now >= deadline:
                        break
                    self._cond.wait(timeout=max(0.001, (not_before if have else deadline) - now))
                    ready_at = self.clock()
                if self._stop is not None:
                    self.reason = self._stop
                    return
            self._take_pending()
            if self.mouth.samples < need:
                self._fill_silence(need)
            self._mouths.extend(self.mouth.frames())
            params = self.motion.frame(i, self._mouths.popleft())
            started = time.perf_counter()
            # Behind the clock: skip this frame's picture (the previous one stays on screen
            # for longer) to catch up, but show at least one frame in MAX_SKIPS + 1 unless
            # hopelessly behind, so an overloaded machine shows a slower face, not a frozen one.
            # The lag counts from when the frame could first be made: a frame that waited for
            # late voice (or for silence to fill in) is not behind for want of CPU, and skipping
            # its picture would freeze the face without catching up on anything.
            lag = self.clock() - ready_at
            late = i > 0 and (lag > MAX_LAG or (lag > LAG_TO_DROP and self._skipped < MAX_SKIPS))
            if late and not self._skipped:
                log.warning("live frame %d skipped: the engine is %.0f ms behind the clock", i, lag * 1000)
            self._skipped = self._skipped + 1 if late else 0
            rgb = None if late else self.rig.render(params)
            self.busy_seconds += time.perf_counter() - started
            a, b = i * per_frame_out - self._out_start, (i + 1) * per_frame_out - self._out_start
            chunk = self._out_audio[a:b]
            if len(chunk) < per_frame_out:
                chunk = np.concatenate([chunk, np.zeros(per_frame_out - len(chunk), np.float32)])
            self._out_audio = self._out_audio[b:]
            self._out_start = (i + 1) * per_frame_out
            self._work.put((i, rgb, chunk))
            i += 1

    def _encode_loop(self) -> None:
        """Watermark stage, encoder, outputs: frame by frame, in order."""
        while True:
            item = self._work.get()
            if item is None:
                return
            if self.error is not None:
                continue
            i, rgb, chunk = item
            try:
                started = time.perf_counter()
                if rgb is None:
                    self.dropped += 1              # skipped: the last frame's fragment covers this slot
                else:
                    marked = self.stage(rgb)
                    if self.poster is None:
                        self.poster = marked.pixels.copy()
                    data = self.encoder.video(marked, i)
                    self.frames += 1
                    if data:
                        self.on_output("video", i, data)
                data = self.encoder.audio(chunk)
                self.busy_seconds += time.perf_counter() - started
                if data:
                    self.on_output("audio", i, data)
            except BaseException as exc:  # noqa: BLE001 - the render loop stops on its next frame
                log.exception("live encoder failed")
                self.error, self.reason = exc, "engine_error"
