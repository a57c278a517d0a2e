"""Decoding voice tracks with PyAV and measuring their loudness per video frame."""
from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .errors import AudioEmpty, AudioTooLong, CorruptFile, UnsupportedFormat, gettext_noop

ANALYSIS_RATE = 16_000
# ffmpeg demuxer names we accept for voice tracks: wav, mp3, flac, m4a/aac, ogg/opus, aiff, webm.
ACCEPTED_CONTAINERS = {"wav", "mp3", "flac", "ogg", "mov,mp4,m4a,3gp,3g2,mj2", "aac", "aiff", "matroska,webm"}
EXTENSIONS = {"wav": "wav", "mp3": "mp3", "flac": "flac", "ogg": "ogg", "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
              "aac": "aac", "aiff": "aiff", "matroska,webm": "webm"}


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32, shape (channels, n)
    sample_rate: int
    container: str

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    @property
    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=0)


def _head(source) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source[:16])
    with open(source, "rb") as fh:
        return fh.read(16)


def _looks_like_audio(head: bytes) -> bool:
    """Magic numbers of the formats we accept: tells 'damaged' from 'not audio'."""
    if head[:4] in (b"RIFF", b"fLaC", b"OggS", b"FORM", b"\x1aE\xdf\xa3") or head[:3] == b"ID3":
        return True
    if head[4:8] == b"ftyp":
        return True
    return len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0  # MPEG audio / ADTS sync


def _open(source):
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    elif isinstance(source, Path):
        source = str(source)
    return av.open(source, mode="r")


def probe_audio(source, *, max_seconds: float | None = None, field: str = "audio") -> tuple[str, float]:
    """Check that `source` is a supported, decodable voice track; return (extension, seconds)."""
    audio = decode_audio(source, max_seconds=max_seconds, field=field)
    return EXTENSIONS[audio.container], audio.duration


def _open_voice(source, *, field: str, max_seconds: float | None):
    """Open `source` as a supported voice track: (open container, format name, declared
    seconds or None). Raises a clear InputError for empty, damaged, unsupported or
    (by its declared duration) over-long files; the caller closes the container."""
    head = _head(source)
    if not head:
        raise CorruptFile(gettext_noop("the voice track is empty"), field=field)
    try:
        container = _open(source)
    except av.error.FFmpegError as exc:
        if _looks_like_audio(head):
            raise CorruptFile(gettext_noop("the voice track is damaged: its audio data could not be read"),
                              field=field) from exc
        raise UnsupportedFormat(gettext_noop("the voice track is not an audio file in a supported format "
                                             "(wav, mp3, flac, m4a, ogg)"), field=field) from exc
    fmt = container.format.name
    declared = None if container.duration is None else container.duration / av.time_base
    try:
        if fmt not in ACCEPTED_CONTAINERS or not container.streams.audio:
            raise UnsupportedFormat(gettext_noop("the voice track's format (%(format)s) is not a supported audio "
                                                 "format (wav, mp3, flac, m4a, ogg)"), field=field,
                                    params={"format": fmt})
        if max_seconds is not None and declared is not None and declared > max_seconds + 0.5:
            raise AudioTooLong(gettext_noop("the voice track lasts %(seconds)s s; the limit is %(limit)s s"),
                               field=field, params={"seconds": f"{declared:.1f}", "limit": f"{max_seconds:g}"})
    except BaseException:
        container.close()
        raise
    return container, fmt, declared


def decode_audio(source, *, sample_rate: int = ANALYSIS_RATE, channels: int = 1,
                 max_seconds: float | None = None, field: str = "audio") -> Audio:
    """Decode the first audio stream, resampled to `sample_rate` and `channels` (1 or 2).

    Raises a clear InputError for unsupported, corrupt, empty or over-long audio."""
    container, fmt, _ = _open_voice(source, field=field, max_seconds=max_seconds)
    with container:
        stream = container.streams.audio[0]
        layout = "mono" if channels == 1 else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
        chunks, total = [], 0
        limit = None if max_seconds is None else int((max_seconds + 0.5) * sample_rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray()
                    chunks.append(arr)
                    total += arr.shape[1]
                if limit is not None and total > limit:
                    raise AudioTooLong(gettext_noop("the voice track is longer than the limit of %(limit)s s"),
                                       field=field, params={"limit": f"{max_seconds:g}"})
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except av.error.FFmpegError as exc:
            raise CorruptFile(gettext_noop("the voice track is damaged and could not be decoded (%(reason)s)"),
                              params={"reason": exc.strerror or str(exc)},
                              field=field) from exc
    samples = np.concatenate(chunks, axis=1).astype(np.float32) if chunks else np.zeros((channels, 0), np.float32)
    if samples.shape[1] == 0:
        raise CorruptFile(gettext_noop("the voice track holds no decodable audio: it is damaged or empty"), field=field)
    if samples.shape[1] < sample_rate // 10:
        raise AudioEmpty(gettext_noop("the voice track is too short: under 0.1 s of audio"), field=field)
    if not np.isfinite(samples).all():
        raise CorruptFile(gettext_noop("the voice track decoded to invalid samples"), field=field)
    return Audio(samples=samples, sample_rate=sample_rate, container=fmt)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Mono float samples (-1..1) as a 16-bit PCM WAV file; clipped, never wrapped."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def frame_count(duration: float, fps: int) -> int:
    return max(1, int(np.ceil(duration * fps - 1e-6)))


def loudness_per_frame(mono: np.ndarray, sample_rate: int, fps: int) -> np.ndarray:
    """RMS level in dBFS of each video frame's window of audio (one value per frame)."""
    n = frame_count(len(mono) / sample_rate, fps)
    hop = sample_rate / fps
    win = int(hop * 1.5)
    padded = np.pad(mono, (win, win))
    out = np.empty(n, np.float32)
    for i in range(n):
        centre = int((i + 0.5) * hop) + win
        seg = padded[centre - win // 2: centre + win // 2]
        out[i] = 10 * np.log10(np.mean(seg * seg) + 1e-10)
    return out


# -- streaming -------------------------------------------------------------------------------
STREAM_BLOCK_SECONDS = 4.0


class AudioStream:
    """A voice track read in blocks, never held whole: the long-audio path.

    `blocks()` decodes afresh each time it is called, so one pass can analyse the
    voice and a later pass can feed the encoder, each in constant memory."""

    def __init__(self, source, *, sample_rate: int = ANALYSIS_RATE, channels: int = 1,
                 max_seconds: float | None = None, field: str = "audio",
                 block_seconds: float = STREAM_BLOCK_SECONDS):
        self.source = source
        self.sample_rate = sample_rate
        self.channels = channels
        self.max_seconds = max_seconds
        self.field = field
        self.block = int(block_seconds * sample_rate)
        self.container_name = ""
        self.declared_seconds: float | None = None
        self._check_header()

    def _check_header(self) -> None:
        container, fmt, self.declared_seconds = _open_voice(self.source, field=self.field,
                                                            max_seconds=self.max_seconds)
        container.close()
        self.container_name = fmt

    def blocks(self):
        """Float32 blocks (channels, n) of about `block_seconds`, in order."""
        field = self.field
        layout = "mono" if self.channels == 1 else "stereo"
        limit = None if self.max_seconds is None else int((self.max_seconds + 0.5) * self.sample_rate)
        total, pending, held = 0, [], 0
        with _open(self.source) as container:
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=self.sample_rate)
            try:
                frames = container.decode(container.streams.audio[0])
                for frame in frames:
                    for out in resampler.resample(frame):
                        arr = out.to_ndarray().astype(np.float32, copy=False)
                        pending.append(arr)
                        held += arr.shape[1]
                        total += arr.shape[1]
                    if limit is not None and total > limit:
                        raise AudioTooLong(gettext_noop("the voice track is longer than the limit of %(limit)s s"),
                                           field=field, params={"limit": f"{self.max_seconds:g}"})
                    if held >= self.block:
                        block = np.concatenate(pending, axis=1)
                        pending, held = [], 0
                        if not np.isfinite(block).all():
                            raise CorruptFile(gettext_noop("the voice track decoded to invalid samples"), field=field)
                        yield block
                for out in resampler.resample(None):
                    pending.append(out.to_ndarray().astype(np.float32, copy=False))
                    total += pending[-1].shape[1]
            except av.error.FFmpegError as exc:
                raise CorruptFile(gettext_noop("the voice track is damaged and could not be decoded (%(reason)s)"),
                              params={"reason": exc.strerror or str(exc)},
                                  field=field) from exc
        if pending:
            block = np.concatenate(pending, axis=1)
            if not np.isfinite(block).all():
                raise CorruptFile(gettext_noop("the voice track decoded to invalid samples"), field=field)
            yield block
        if total == 0:
            raise CorruptFile(gettext_noop("the voice track holds no decodable audio: it is damaged or empty"),
                              field=field)
        if total < self.sample_rate // 10:
            raise AudioEmpty(gettext_noop("the voice track is too short: under 0.1 s of audio"), field=field)

    def samples_mono(self) -> np.ndarray:
        """The whole track as one array (for backends that want it; not the streaming path)."""
        return np.concatenate([b.mean(axis=0) for b in self.blocks()])


class LazyAudio:
    """Looks like `Audio` to a backend but decodes only when `.samples` is asked for."""

    def __init__(self, stream: AudioStream, duration: float | None = None, analysis=None):
        self._stream = stream
        self.sample_rate = stream.sample_rate
        self.container = stream.container_name
        self._duration = duration
        self._samples = None
        self._analysis = analysis   # voice.VoiceAnalysis from the pipeline's first pass, or a Future of it

    @property
    def analysis(self):
        """The pipeline's voice analysis (waits for it when it runs on another thread)."""
        a = self._analysis
        if a is not None and hasattr(a, "result"):
            self._analysis = a = a.result()
        return a

    @analysis.setter
    def analysis(self, value):
        self._analysis = value

    @property
    def duration(self) -> float:
        if self._duration is None:
            a = self.analysis
            self._duration = a.seconds if a is not None else self.samples.shape[1] / self.sample_rate
        return self._duration

    @property
    def samples(self) -> np.ndarray:
        if self._samples is None:
            self._samples = self._stream.samples_mono()[None, :]
        return self._samples

    @property
    def mono(self) -> np.ndarray:
        return self.samples[0]

    def blocks(self):
        return self._stream.blocks()
