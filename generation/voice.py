"""Per-video-frame acoustic features of a voice track, computed block by block.

Language-independent: level (dBFS, then normalised to the clip's active level),
voice activity, periodicity and pitch, and the first two formants from LPC. The
formants tell an open vowel (high F1) from a close one, and a spread vowel (high
F2) from a rounded one, which is what the mouth shows; they drive the mouth for
languages the phoneme recogniser does not know, and for singing.

Only per-frame numbers are kept for the whole clip (a few floats a frame), never
the samples, so memory does not grow with the length of the audio."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .phonemes import PhoneAligner, available

LPC_ORDER = 14
ACTIVE_LEVEL_DB = -20.0     # loudness normalisation target for voiced frames


@dataclass(frozen=True)
class VoiceFeatures:
    fps: int
    level_db: np.ndarray     # raw RMS level per frame, dBFS
    loudness: np.ndarray     # level normalised: 0 = clip's active speech level, in dB
    voiced: np.ndarray       # bool, voice activity (speech or song)
    periodicity: np.ndarray  # 0..1 normalised autocorrelation peak (voicing strength)
    pitch: np.ndarray        # Hz, 0 where unvoiced
    f1: np.ndarray           # Hz, first formant (0 where not estimated)
    f2: np.ndarray           # Hz, second formant
    gain_db: float           # the loudness normalisation applied

    def __len__(self) -> int:
        return len(self.level_db)

    @property
    def seconds(self) -> float:
        return len(self) / self.fps


def level_db(frames: np.ndarray) -> np.ndarray:
    """(n, k) windows -> (n,) level in dBFS of each, its DC removed."""
    return _centred_level_db(frames - frames.mean(axis=1, keepdims=True))


def _centred_level_db(x: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.mean(x * x, axis=1) + 1e-10)


def _frames_features(frames: np.ndarray, sr: int) -> np.ndarray:
    """(n, win) windows -> (n, 6): level_db, periodicity, pitch, f1, f2, zcr."""
    n, win = frames.shape
    out = np.zeros((n, 6), np.float32)
    if n == 0:
        return out
    x = frames - frames.mean(axis=1, keepdims=True)
    out[:, 0] = _centred_level_db(x)
    out[:, 5] = np.mean(np.abs(np.diff(np.sign(x), axis=1)) > 0, axis=1)
    w = x * np.hanning(win).astype(np.float32)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    spec = np.fft.rfft(w, nfft, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, nfft, axis=1)[:, :win]
    ac0 = ac[:, :1] + 1e-9
    lo, hi = int(sr / 500), int(sr / 70)
    seg = ac[:, lo:hi] / ac0
    lag = np.argmax(seg, axis=1)
    out[:, 1] = np.clip(seg[np.arange(n), lag], 0, 1)
    out[:, 2] = np.where(out[:, 1] > 0.4, sr / (lag + lo), 0.0)
    out[:, 3:5] = _formants(w, sr)
    return out


def _formants(w: np.ndarray, sr: int) -> np.ndarray:
    """F1, F2 from the roots of an LPC polynomial (autocorrelation method, Levinson)."""
    n = len(w)
    pre = np.concatenate([w[:, :1], w[:, 1:] - 0.95 * w[:, :-1]], axis=1).astype(np.float64)
    p = LPC_ORDER
    r = np.stack([np.sum(pre[:, : pre.shape[1] - k] * pre[:, k:], axis=1) for k in range(p + 1)], 1)
    r[:, 0] = r[:, 0] * 1.0001 + 1e-9
    a = np.zeros((n, p + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    for i in range(1, p + 1):
        acc = r[:, i] + np.sum(a[:, 1:i] * r[:, i - 1:0:-1], axis=1) if i > 1 else r[:, 1].copy()
        k = -acc / err
        a_prev = a.copy()
        for j in range(1, i):
            a[:, j] = a_prev[:, j] + k * a_prev[:, i - j]
        a[:, i] = k
        err = err * (1 - k * k) + 1e-12
    comp = np.zeros((n, p, p))
    comp[:, 0, :] = -a[:, 1:]
    comp[:, np.arange(1, p), np.arange(p - 1)] = 1.0
    roots = np.linalg.eigvals(comp)
    freqs = np.angle(roots) * sr / (2 * np.pi)
    bw = -np.log(np.abs(roots) + 1e-12) * sr / np.pi
    ok = (freqs > 150) & (freqs < 4000) & (bw < 500)
    freqs = np.where(ok, freqs, np.inf)
    freqs.sort(axis=1)
    f = freqs[:, :2]
    return np.where(np.isfinite(f), f, 0.0).astype(np.float32)


class FeatureExtractor:
    """Feed sample blocks in order; frame i covers the audio around (i + 0.5) / fps."""

    def __init__(self, sample_rate: int, fps: int):
        self.sr, self.fps = sample_rate, fps
        self.hop = sample_rate / fps
        self.win = int(self.hop * 1.5)
        self._buf = np.zeros(self.win, np.float32)   # leading zeros: the first windows start before 0
        self._buf_start = -self.win                 # sample index of _buf[0]
        self._next = 0                              # next frame to compute
        self._rows: list[np.ndarray] = []
        self.samples = 0

    def _window_start(self, i: int) -> int:
        return int((i + 0.5) * self.hop) - self.win // 2

    def feed(self, mono: np.ndarray) -> None:
        self._buf = np.concatenate([self._buf, mono.astype(np.float32, copy=False)])
        self.samples += len(mono)
        self._drain(final=False)

    def _drain(self, final: bool) -> None:
        end = self._buf_start + len(self._buf)
        i = self._next
        idx = []
        while self._window_start(i) + self.win <= end:
            idx.append(i)
            i += 1
        if final:
            n_total = max(1, int(np.ceil(self.samples / self.hop - 1e-6)))
            pad = max(0, self._window_start(n_total - 1) + self.win - end)
            self._buf = np.concatenate([self._buf, np.zeros(pad, np.float32)])
            while i < n_total:
                idx.append(i)
                i += 1
            idx = [j for j in idx if j < n_total]
        if idx:
            starts = np.array([self._window_start(j) - self._buf_start for j in idx])
            frames = self._buf[starts[:, None] + np.arange(self.win)[None, :]]
            self._rows.append(_frames_features(frames, self.sr))
            self._next = idx[-1] + 1
        keep_from = self._window_start(self._next) - self._buf_start
        if keep_from > 0:
            self._buf = self._buf[keep_from:]
            self._buf_start += keep_from

    def finish(self) -> VoiceFeatures:
        self._drain(final=True)
        rows = np.concatenate(self._rows) if self._rows else np.zeros((1, 6), np.float32)
        return summarise(rows, self.fps)


def summarise(rows: np.ndarray, fps: int) -> VoiceFeatures:
    """Whole-clip decisions on the per-frame numbers: normalisation and voice activity."""
    level = rows[:, 0]
    peak = float(np.percentile(level, 97))
    floor = max(float(np.percentile(level, 10)), peak - 50.0)
    # Between the floor and the peak; but in a clip with little dynamic range (a sung
    # track over music, a compressed master) everything within 12 dB of the peak is voice.
    thresh = float(np.clip(floor + max(0.3 * (peak - floor), 6.0), peak - 45.0, peak - 12.0))
    raw = level > thresh
    voiced = _hangover(raw, fps)
    active = level[voiced] if voiced.any() else level
    gain = ACTIVE_LEVEL_DB - float(np.mean(active))
    return VoiceFeatures(fps=fps, level_db=level, loudness=(level + gain - ACTIVE_LEVEL_DB).astype(np.float32),
                         voiced=voiced, periodicity=rows[:, 1],
                         pitch=np.where(voiced, rows[:, 2], 0).astype(np.float32),
                         f1=np.where(voiced, rows[:, 3], 0).astype(np.float32),
                         f2=np.where(voiced, rows[:, 4], 0).astype(np.float32), gain_db=gain)


def _hangover(raw: np.ndarray, fps: int) -> np.ndarray:
    """Bridge gaps under 120 ms inside speech, drop blips under 60 ms."""
    v = raw.copy()
    gap = int(round(0.12 * fps))
    blip = max(1, int(round(0.06 * fps)))
    runs = _runs(v)
    for val, s, e in runs:
        if not val and e - s < gap and s > 0 and e < len(v):
            v[s:e] = True
    for val, s, e in _runs(v):
        if val and e - s < blip:
            v[s:e] = False
    return v


def _runs(x: np.ndarray):
    """(value, start, end) of each run of equal values."""
    if len(x) == 0:
        return []
    change = np.flatnonzero(np.diff(x.astype(np.int8))) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(x)]])
    return [(bool(x[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def silent_stretches(voiced: np.ndarray, fps: int, min_seconds: float = 0.2) -> list[tuple[int, int]]:
    """(start, end) frames of the unvoiced runs longer than `min_seconds`."""
    n = int(np.ceil(min_seconds * fps))
    return [(s, e) for val, s, e in _runs(voiced) if not val and e - s > n]


@dataclass(frozen=True)
class VoiceAnalysis:
    features: VoiceFeatures
    phones: list | None          # pocketsphinx phones (None when not asked for)
    seconds: float


def analyse_voice(blocks, *, sample_rate: int, fps: int, phones: bool = True) -> VoiceAnalysis:
    """One pass over mono sample blocks: per-frame features and, when asked, English
    phones. Memory holds one block at a time."""
    extractor = FeatureExtractor(sample_rate, fps)
    aligner = PhoneAligner(sample_rate) if phones and available() else None
    try:
        for block in blocks:
            mono = block.mean(axis=0) if block.ndim == 2 else block
            extractor.feed(mono)
            if aligner is not None:
                aligner.feed(mono)
    except BaseException:
        if aligner is not None:
            aligner.abort()
        raise
    found = aligner.finish() if aligner is not None else None
    return VoiceAnalysis(features=extractor.finish(), phones=found, seconds=extractor.samples / sample_rate)
