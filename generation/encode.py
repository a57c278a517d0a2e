"""The watermark stage and the MP4 writer.

The writer accepts only `MarkedFrame`s, and only `WatermarkStage` makes them, so
no frame can reach the encoder without passing through a watermark marker.
"""
from __future__ import annotations

import os
import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import cv2
import numpy as np

from .audio import Audio, AudioStream


class FrameMarker(Protocol):
    """Embeds an invisible payload into one RGB frame (provided by provenance)."""

    def mark(self, rgb: np.ndarray) -> np.ndarray: ...


class MarkedFrame:
    __slots__ = ("pixels", "_token")

    def __init__(self, pixels: np.ndarray, token: object):
        if token is not _STAGE_TOKEN:
            raise TypeError("MarkedFrame is created only by WatermarkStage")
        self.pixels = pixels
        self._token = token


_STAGE_TOKEN = object()


class WatermarkStage:
    """Wraps a marker; every frame bound for the encoder goes through `__call__`."""

    def __init__(self, marker: FrameMarker):
        if marker is None or not callable(getattr(marker, "mark", None)):
            raise TypeError("a watermark marker is required")
        self._marker = marker
        self.frames = 0

    def __call__(self, rgb: np.ndarray) -> MarkedFrame:
        marked = self._marker.mark(rgb)
        if marked.shape != rgb.shape or marked.dtype != np.uint8:
            raise ValueError("the watermark marker changed the frame's shape or type")
        self.frames += 1
        return MarkedFrame(marked, _STAGE_TOKEN)


class Mp4Writer:
    """H.264 (yuv420p) + AAC in an MP4, audio interleaved with the video as it goes.

    `audio` is a decoded `Audio` or an `AudioStream`, which is read block by block as
    the video advances (constant memory for long tracks). Writes to `path`; callers
    write to a temporary name and rename when done."""

    def __init__(self, path: str | os.PathLike, *, width: int, height: int, fps: int, audio: Audio | AudioStream,
                 crf: int = 18, preset: str = "veryfast", threads: int = 2):
        self.path = Path(path)
        self.fps = fps
        if isinstance(audio, AudioStream):
            self._blocks = audio.blocks()
            self._pending = np.zeros((audio.channels, 0), np.float32)
            self._sr, channels = audio.sample_rate, audio.channels
        else:
            self._blocks = None
            self._pending = audio.samples
            self._sr, channels = audio.sample_rate, audio.samples.shape[0]
        self._audio_pos = 0          # samples written
        self._pending_start = 0      # sample index of _pending[:, 0]
        self._container = av.open(str(self.path), mode="w", format="mp4",
                                  options={"movflags": "+faststart"})
        self._video = self._container.add_stream("libx264", rate=fps, options={
            "crf": str(crf), "preset": preset, "tune": "film", "threads": str(threads)})
        self._video.width, self._video.height = width, height
        self._video.pix_fmt = "yuv420p"
        self._video.time_base = Fraction(1, fps)
        layout = "mono" if channels == 1 else "stereo"
        self._astream = self._container.add_stream("aac", rate=self._sr, layout=layout)
        self._astream.bit_rate = 128_000
        self._astream.time_base = Fraction(1, self._sr)
        self._layout = layout
        self.frames = 0

    def write(self, frame: MarkedFrame) -> None:
        if not isinstance(frame, MarkedFrame):
            raise TypeError("Mp4Writer only accepts frames from the watermark stage")
        vf = _video_frame(frame.pixels)
        vf.pts = self.frames
        for packet in self._video.encode(vf):
            self._container.mux(packet)
        self.frames += 1
        self._write_audio_until(self.frames / self.fps)

    def _available_until(self, end: int | None) -> int:
        """Pull stream blocks until sample `end` (None: all) is held; return the last held index."""
        while self._blocks is not None and (end is None or self._pending_start + self._pending.shape[1] < end):
            block = next(self._blocks, None)
            if block is None:
                self._blocks = None
                break
            self._pending = np.concatenate([self._pending[:, self._audio_pos - self._pending_start:], block], axis=1)
            self._pending_start = self._audio_pos
        held = self._pending_start + self._pending.shape[1]
        return held if end is None else min(end, held)

    def _write_audio_until(self, seconds: float | None) -> None:
        end = self._available_until(None if seconds is None else int(seconds * self._sr))
        chunk = 1024
        while self._audio_pos < end:
            stop = min(self._audio_pos + chunk, end)
            a, b = self._audio_pos - self._pending_start, stop - self._pending_start
            block = np.ascontiguousarray(self._pending[:, a:b])
            af = av.AudioFrame.from_ndarray(block, format="fltp", layout=self._layout)
            af.sample_rate = self._sr
            af.pts = self._audio_pos
            for packet in self._astream.encode(af):
                self._container.mux(packet)
            self._audio_pos = stop

    def close(self) -> None:
        for packet in self._video.encode():
            self._container.mux(packet)
        self._write_audio_until(None)
        for packet in self._astream.encode():
            self._container.mux(packet)
        self._container.close()

    def abort(self) -> None:
        try:
            self._container.close()
        finally:
            self.path.unlink(missing_ok=True)


def _video_frame(rgb: np.ndarray) -> av.VideoFrame:
    """The encoder's yuv420p frame. OpenCV's RGB -> I420 (BT.601, limited range, as
    swscale's default) costs a tenth of PyAV's conversion inside the encoder (measured
    at 1280x720: 0.7 ms against several ms); frames of odd size go through swscale."""
    h, w = rgb.shape[:2]
    if h % 2 or w % 2:
        return av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p")


class ConcurrentEncoder:
    """Runs the watermark stage and the encoder each on its own thread, linked by
    bounded queues, so that rendering, marking and encoding overlap and keep both
    cores busy (libx264, numpy and OpenCV release the GIL). Frames still reach the
    writer only as `MarkedFrame`s made by the stage; memory holds at most about
    2 x `depth` frames whatever the length of the video."""

    _DONE = object()

    def __init__(self, stage: WatermarkStage, writer: Mp4Writer, depth: int = 6, on_first=None):
        self.stage, self.writer = stage, writer
        self._raw: queue.Queue = queue.Queue(maxsize=depth)
        self._marked: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._on_first = on_first
        self.written = 0
        self._threads = [threading.Thread(target=self._mark_loop, name="veritalk-watermark", daemon=True),
                         threading.Thread(target=self._write_loop, name="veritalk-encoder", daemon=True)]
        for t in self._threads:
            t.start()

    def _mark_loop(self) -> None:
        first = True
        while True:
            item = self._raw.get()
            if item is self._DONE:
                self._marked.put(self._DONE)
                return
            if self._error is not None:
                continue
            try:
                marked = self.stage(item)
                if first and self._on_first is not None:
                    self._on_first(marked)
                first = False
                self._marked.put(marked)
            except BaseException as exc:  # handed to the producer on its next call
                self._error = exc

    def _write_loop(self) -> None:
        while True:
            marked = self._marked.get()
            if marked is self._DONE:
                return
            if self._error is not None:
                continue
            try:
                self.writer.write(marked)
                self.written += 1
            except BaseException as exc:
                self._error = exc

    def put(self, rgb: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._raw.put(rgb)

    def _stop(self) -> None:
        self._raw.put(self._DONE)
        for t in self._threads:
            t.join()

    def finish(self) -> None:
        """Wait for every queued frame, then close the file."""
        self._stop()
        if self._error is not None:
            raise self._error
        self.writer.close()

    def abort(self) -> None:
        if any(t.is_alive() for t in self._threads):
            self._error = self._error or RuntimeError("aborted")
            for q in (self._raw, self._marked):
                try:
                    while True:
                        q.get_nowait()
                except queue.Empty:
                    pass
            self._stop()
        self.writer.abort()
