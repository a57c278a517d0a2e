"""The watermark stage and the MP4 writer.

The writer accepts only `MarkedFrame`s, and only `WatermarkStage` makes them, so
no frame can reach the encoder without passing through a watermark marker.
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from .audio import Audio


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

    Writes to `path`; callers write to a temporary name and rename when done."""

    def __init__(self, path: str | os.PathLike, *, width: int, height: int, fps: int, audio: Audio,
                 crf: int = 18, preset: str = "veryfast"):
        self.path = Path(path)
        self.fps = fps
        self._audio = audio
        self._audio_pos = 0
        self._container = av.open(str(self.path), mode="w", format="mp4",
                                  options={"movflags": "+faststart"})
        self._video = self._container.add_stream("libx264", rate=fps, options={
            "crf": str(crf), "preset": preset, "tune": "film", "threads": "2"})
        self._video.width, self._video.height = width, height
        self._video.pix_fmt = "yuv420p"
        self._video.time_base = Fraction(1, fps)
        layout = "mono" if audio.samples.shape[0] == 1 else "stereo"
        self._astream = self._container.add_stream("aac", rate=audio.sample_rate, layout=layout)
        self._astream.bit_rate = 128_000
        self._astream.time_base = Fraction(1, audio.sample_rate)
        self._layout = layout
        self.frames = 0

    def write(self, frame: MarkedFrame) -> None:
        if not isinstance(frame, MarkedFrame):
            raise TypeError("Mp4Writer only accepts frames from the watermark stage")
        vf = av.VideoFrame.from_ndarray(frame.pixels, format="rgb24")
        vf.pts = self.frames
        for packet in self._video.encode(vf):
            self._container.mux(packet)
        self.frames += 1
        self._write_audio_until(self.frames / self.fps)

    def _write_audio_until(self, seconds: float | None) -> None:
        samples = self._audio.samples
        end = samples.shape[1] if seconds is None else min(samples.shape[1], int(seconds * self._audio.sample_rate))
        chunk = 1024
        while self._audio_pos < end:
            stop = min(self._audio_pos + chunk, end)
            block = np.ascontiguousarray(samples[:, self._audio_pos:stop])
            af = av.AudioFrame.from_ndarray(block, format="fltp", layout=self._layout)
            af.sample_rate = self._audio.sample_rate
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
