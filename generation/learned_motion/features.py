"""Log-mel audio features, one vector per video frame, computed with numpy only
(no torchaudio): the learned motion model's audio input."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 512
WIN = 400           # 25 ms
HOP = 160           # 10 ms: four hops per 40 ms video frame at 25 fps
N_MELS = 40
SUB_FRAMES = 4      # mel frames stacked per video frame
FEATURE_DIM = N_MELS * SUB_FRAMES + 1   # + the frame's loudness


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10 ** (np.asarray(m) / 2595.0) - 1.0)


@lru_cache(maxsize=4)
def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sr: int = SAMPLE_RATE,
                   fmin: float = 60.0, fmax: float = 7600.0) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters, HTK mel scale."""
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fb = np.zeros((n_mels, len(bins)), np.float64)
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (bins - lo) / max(mid - lo, 1e-9)
        down = (hi - bins) / max(hi - mid, 1e-9)
        fb[m] = np.clip(np.minimum(up, down), 0.0, None)
    return fb


def log_mel(mono: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """(T, N_MELS) log-mel energies with a 10 ms hop."""
    if sr != SAMPLE_RATE:
        raise ValueError(f"log_mel expects {SAMPLE_RATE} Hz audio, got {sr}")
    x = np.asarray(mono, np.float64)
    x = np.pad(x, (WIN // 2, WIN // 2 + HOP))
    n = 1 + (len(x) - WIN) // HOP
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    frames = x[idx] * np.hanning(WIN)[None, :]
    spec = np.abs(np.fft.rfft(frames, n=N_FFT, axis=1)) ** 2
    return np.log(spec @ mel_filterbank().T + 1e-8).astype(np.float32)


def frame_features(mono: np.ndarray, n_frames: int, fps: int = 25, sr: int = SAMPLE_RATE) -> np.ndarray:
    """(n_frames, FEATURE_DIM): the SUB_FRAMES mel frames that cover each video frame,
    normalised per clip (recording level and microphone do not matter), plus the
    frame's relative loudness."""
    mel = log_mel(mono, sr)
    mel = (mel - mel.mean(axis=0)) / (mel.std(axis=0) + 1e-5)
    per = SAMPLE_RATE / HOP / fps        # mel frames per video frame (4 at 25 fps)
    starts = np.round(np.arange(n_frames) * per).astype(int)
    idx = np.clip(starts[:, None] + np.arange(SUB_FRAMES)[None, :], 0, len(mel) - 1)
    stacked = mel[idx].reshape(n_frames, -1)
    energy = np.log(np.exp(mel_power(mono, sr)) + 1e-8)
    e = energy[idx].mean(axis=1)
    e = (e - np.percentile(e, 95)) / 10.0
    return np.concatenate([stacked, e[:, None]], axis=1).astype(np.float32)


def mel_power(mono: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Per-hop log power (natural log), for the loudness feature."""
    x = np.asarray(mono, np.float64)
    x = np.pad(x, (WIN // 2, WIN // 2 + HOP))
    n = 1 + (len(x) - WIN) // HOP
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    return np.log(np.mean(x[idx] ** 2, axis=1) + 1e-10).astype(np.float32)
