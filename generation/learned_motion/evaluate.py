"""Motion statistics of real videos against those of generated motion.

Three realism measures, each a distance to the real videos' statistics (lower is
better), and one sync measure:
- blinks: blink rate (per minute) and mean blink duration; distance = |log ratio|
  of each, summed;
- head-motion spectrum: Welch power spectra of yaw, pitch and roll (0.2-6 Hz);
  distance = mean |log10 ratio| over frequency bins and axes;
- lip speed: distribution of |d jaw / dt|; distance = 1-Wasserstein distance
  between the pooled distributions, relative to the real mean speed;
- sync: correlation of jaw opening with the frame loudness, best over lags of
  +-2 frames (80 ms), averaged over clips.
"""
from __future__ import annotations

import numpy as np

FPS = 25
BLINK_THRESHOLD = 0.5
BAND = (0.2, 6.0)
NPERSEG = 50


def blink_events(blink: np.ndarray, threshold: float = BLINK_THRESHOLD) -> list[int]:
    """Durations (frames) of each run of frames above the threshold."""
    above = np.asarray(blink) > threshold
    runs, n = [], 0
    for a in above:
        if a:
            n += 1
        elif n:
            runs.append(n); n = 0
    if n:
        runs.append(n)
    return runs


def blink_stats(tracks: list[np.ndarray]) -> dict:
    events = [d for m in tracks for d in blink_events(m[:, 3])]
    minutes = sum(len(m) for m in tracks) / FPS / 60.0
    return {"rate_per_min": len(events) / max(minutes, 1e-9),
            "mean_duration_ms": 1000.0 * float(np.mean(events)) / FPS if events else 0.0}


def welch(x: np.ndarray, nperseg: int = NPERSEG) -> tuple[np.ndarray, np.ndarray]:
    """One-sided power spectral density with Hann windows and 50 % overlap."""
    x = np.asarray(x, np.float64) - np.mean(x)
    if len(x) < nperseg:
        x = np.pad(x, (0, nperseg - len(x)))
    win = np.hanning(nperseg)
    step = nperseg // 2
    segs = [x[i:i + nperseg] for i in range(0, len(x) - nperseg + 1, step)]
    p = np.mean([np.abs(np.fft.rfft((s - s.mean()) * win)) ** 2 for s in segs], axis=0)
    return np.fft.rfftfreq(nperseg, 1.0 / FPS), p / (FPS * np.sum(win ** 2))


def head_spectrum(tracks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(freqs, (3, bins) mean PSD of yaw, pitch, roll) within BAND."""
    specs = []
    for m in tracks:
        per_axis = []
        for k in (4, 5, 6):
            f, p = welch(m[:, k])
            per_axis.append(p)
        specs.append(per_axis)
    spec = np.mean(np.array(specs), axis=0)
    keep = (f >= BAND[0]) & (f <= BAND[1])
    return f[keep], spec[:, keep]


def lip_speeds(tracks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.abs(np.diff(m[:, 0])) * FPS for m in tracks])


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    q = np.linspace(0.0, 1.0, 201)
    return float(np.mean(np.abs(np.quantile(a, q) - np.quantile(b, q))))


def sync(jaw: np.ndarray, loudness: np.ndarray, max_lag: int = 2) -> tuple[float, int]:
    """Best correlation of jaw with loudness over lags in frames (positive: mouth lags)."""
    best, best_lag = -1.0, 0
    n = min(len(jaw), len(loudness))
    for lag in range(-max_lag, max_lag + 1):
        a = jaw[max(0, lag):n + min(0, lag)]
        b = loudness[max(0, -lag):n - max(0, lag)]
        if len(a) > 10 and a.std() > 1e-6 and b.std() > 1e-6:
            c = float(np.corrcoef(a, b)[0, 1])
            if c > best:
                best, best_lag = c, lag
    return best, best_lag


def statistics(tracks: list[np.ndarray], loudness: list[np.ndarray], blink_ok: list[bool] | None = None) -> dict:
    f, spec = head_spectrum(tracks)
    speeds = lip_speeds(tracks)
    syncs = [sync(m[:, 0], l) for m, l in zip(tracks, loudness)]
    return {"blinks": blink_stats(_reliable(tracks, blink_ok)),
            "head_psd": {"freqs": f.round(3).tolist(), "yaw_pitch_roll": spec.tolist()},
            "head_std_deg": np.mean([m[:, 4:7].std(axis=0) for m in tracks], axis=0).round(3).tolist(),
            "lip_speed": {"mean": float(speeds.mean()), "p50": float(np.median(speeds)),
                          "p90": float(np.percentile(speeds, 90))},
            "jaw_mean": float(np.mean([m[:, 0].mean() for m in tracks])),
            "sync": {"corr": float(np.mean([s[0] for s in syncs])),
                     "lag_frames": float(np.mean([s[1] for s in syncs]))}}


def _reliable(tracks, blink_ok):
    return list(tracks) if blink_ok is None else [m for m, ok in zip(tracks, blink_ok) if ok]


def distances(real: list[np.ndarray], generated: list[np.ndarray], blink_ok: list[bool] | None = None) -> dict:
    """Distances of generated motion to the real videos (lower is better). Real blink
    statistics come only from clips whose blink measure is reliable (`blink_ok`)."""
    eps = 1e-3
    rb, gb = blink_stats(_reliable(real, blink_ok)), blink_stats(generated)
    blink = (abs(np.log((gb["rate_per_min"] + eps) / (rb["rate_per_min"] + eps)))
             + abs(np.log((gb["mean_duration_ms"] + 1.0) / (rb["mean_duration_ms"] + 1.0))))
    _, rs = head_spectrum(real)
    _, gs = head_spectrum(generated)
    head = float(np.mean(np.abs(np.log10((gs + 1e-6) / (rs + 1e-6)))))
    rl, gl = lip_speeds(real), lip_speeds(generated)
    lip = float(wasserstein(gl, rl) / (rl.mean() + 1e-9))
    return {"blink": round(float(blink), 4), "head_spectrum": round(head, 4), "lip_speed": round(lip, 4)}


def jaw_agreement(real: list[np.ndarray], generated: list[np.ndarray]) -> float:
    """Mean correlation of generated jaw with the real jaw of the same clip (best lag
    within +-2 frames): does the mouth follow what the real speaker's mouth did?"""
    return float(np.mean([sync(g[:, 0], r[:, 0])[0] for r, g in zip(real, generated)]))


def compare(real: list[np.ndarray], loudness: list[np.ndarray], sources: dict[str, list[np.ndarray]],
            blink_ok: list[bool] | None = None) -> dict:
    """Statistics of the real tracks and, per motion source, its statistics and distances."""
    out = {"real": statistics(real, loudness, blink_ok)}
    for name, tracks in sources.items():
        out[name] = {"distances": distances(real, tracks, blink_ok), **statistics(tracks, loudness),
                     "jaw_vs_real_jaw": round(jaw_agreement(real, tracks), 4)}
    return out
