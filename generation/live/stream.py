"""Encoding a live session once, for two destinations: fragmented MP4 for the
viewer (Media Source Extensions) and an MP4 recording for signing.

Video is H.264 (x264 `zerolatency`: no B-frames, no look-ahead, so a frame's packet
comes out as the frame goes in); each packet becomes one fragment of the live video
stream at once (generation.live.fmp4) and is muxed into the recording as is, so the recording holds exactly
the frames the viewer saw. The voice goes out as Opus (20 ms packets) in its own
fragmented stream and into the recording as AAC. Only `MarkedFrame`s, which only the
pipeline's watermark stage makes, are accepted."""
from __future__ import annotations

import io
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..encode import MarkedFrame
from .fmp4 import FragmentWriter, annexb_to_length_prefixed

OUTPUT_RATE = 48_000
FRAGMENT_FLAGS = "frag_every_frame+empty_moov+default_base_moof"
KEYFRAME_SECONDS = 2          # a viewer that joins (or recovers) waits at most this long


class _Sink(io.RawIOBase):
    """Collects what a muxer writes; `take()` returns it and starts afresh."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self._chunks.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def _copy(packet: av.Packet, stream) -> av.Packet:
    """A packet with its own data, for a second muxer (muxing takes the data over)."""
    out = av.Packet(bytes(packet))
    out.pts, out.dts, out.duration = packet.pts, packet.dts, packet.duration
    out.time_base = packet.time_base
    out.is_keyframe = packet.is_keyframe
    out.stream = stream
    return out


def codec_string(extradata: bytes) -> str:
    """The RFC 6381 codecs value (avc1.PPCCLL) from H.264 extradata, an avcC record
    or Annex B parameter sets (what x264 gives before the muxer converts them)."""
    if extradata[:1] == b"\x01" and len(extradata) >= 4:
        return "avc1." + extradata[1:4].hex()
    for start in (m + 3 for m in range(len(extradata) - 3) if extradata[m:m + 3] == b"\x00\x00\x01"):
        if extradata[start] & 0x1F == 7 and start + 4 <= len(extradata):    # sequence parameter set
            return "avc1." + extradata[start + 1:start + 4].hex()
    raise ValueError("no H.264 sequence parameter set in the encoder's extradata")


class LiveEncoder:
    """`video(marked)` -> the fragment(s) the viewer needs now; `audio(samples)` the
    same for the voice (float32 mono at OUTPUT_RATE); `close()` finishes the
    recording at `recording`."""

    def __init__(self, recording: str | os.PathLike, *, size: int, fps: int, crf: int = 21,
                 preset: str = "superfast"):
        self.fps, self.size = fps, size
        self.recording = Path(recording)
        self._vsink = _Sink()
        self._vmux = av.open(self._vsink, mode="w", format="mp4", options={"movflags": FRAGMENT_FLAGS})
        self._venc = self._vmux.add_stream("libx264", rate=fps, options={
            "preset": preset, "tune": "zerolatency", "crf": str(crf), "bf": "0",
            "g": str(KEYFRAME_SECONDS * fps), "threads": "1"})
        self._venc.width = self._venc.height = size
        self._venc.pix_fmt = "yuv420p"
        self._venc.time_base = Fraction(1, fps)
        self._vmux.start_encoding()
        self.video_init = self._vsink.take()
        self._fragments = FragmentWriter(self.video_init)
        self._ticks = self._fragments.timescale // fps      # track timescale units per frame
        self._live_end = 0                                   # frame where the live timeline ends
        self.video_codec = codec_string(bytes(self._venc.codec_context.extradata or b""))

        self._asink = _Sink()
        self._amux = av.open(self._asink, mode="w", format="mp4", options={"movflags": FRAGMENT_FLAGS})
        self._aenc = self._amux.add_stream("libopus", rate=OUTPUT_RATE, layout="mono")
        self._aenc.bit_rate = 64_000
        self._aenc.time_base = Fraction(1, OUTPUT_RATE)
        self._amux.start_encoding()
        self.audio_init = self._asink.take()
        self.audio_codec = "opus"
        self._apts = 0

        self._rec = av.open(str(self.recording), mode="w", format="mp4", options={"movflags": "+faststart"})
        self._rvideo = self._rec.add_stream_from_template(self._venc)
        self._raac = self._rec.add_stream("aac", rate=OUTPUT_RATE, layout="mono")
        self._raac.bit_rate = 96_000
        self._raac.time_base = Fraction(1, OUTPUT_RATE)
        self._rpts = 0
        self.frames = 0
        self._closed = False

    def video(self, frame: MarkedFrame, index: int) -> bytes:
        if not isinstance(frame, MarkedFrame):
            raise TypeError("the live encoder only accepts frames from the watermark stage")
        vf = av.VideoFrame.from_ndarray(frame.pixels, format="rgb24")
        vf.pts = index
        out = []
        for packet in self._venc.encode(vf):
            packet.duration = 1
            # The live timeline has no holes: a fragment lasts from the end of the previous
            # one to the end of its own frame (longer when the engine skipped frames).
            start, self._live_end = self._live_end, packet.dts + 1
            out.append(self._fragments.fragment(annexb_to_length_prefixed(bytes(packet)), start * self._ticks,
                                                (packet.dts + 1 - start) * self._ticks, packet.is_keyframe))
            self._rec.mux(_copy(packet, self._rvideo))
        self.frames += 1
        return b"".join(out)

    def audio(self, samples: np.ndarray) -> bytes:
        block = np.ascontiguousarray(samples, np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
        frame.sample_rate = OUTPUT_RATE
        frame.pts = self._apts
        self._apts += block.shape[1]
        for packet in self._aenc.encode(frame):
            self._amux.mux(packet)
        rec = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="flt", layout="mono")
        rec.sample_rate = OUTPUT_RATE
        rec.pts = self._rpts
        self._rpts += block.shape[1]
        for packet in self._raac.encode(rec):
            self._rec.mux(packet)
        return self._asink.take()

    def close(self) -> None:
        """Flush the encoders and finish the recording (the live streams just end)."""
        if self._closed:
            return
        self._closed = True
        for packet in self._venc.encode():
            packet.duration = 1
            self._rec.mux(_copy(packet, self._rvideo))
        for packet in self._raac.encode():
            self._rec.mux(packet)
        self._rec.close()
        for c in (self._vmux, self._amux):
            try:
                c.close()
            except av.error.FFmpegError:
                pass

    def abort(self) -> None:
        self._closed = True
        for c in (self._rec, self._vmux, self._amux):
            try:
                c.close()
            except Exception:  # noqa: BLE001 - closing what is left of a failed session
                pass
        self.recording.unlink(missing_ok=True)
