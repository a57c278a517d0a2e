"""Mouth shapes and speech cues from a voice that is still arriving.

The offline planner (generation.motion) sees the whole clip: it normalises the level
to the clip's active speech, smooths forwards and backwards and drops blips by
looking at both sides. Live, frame i uses no audio past its own 60 ms window (30 ms
past its centre): it is made as soon as that window has arrived. The mouth opens
within the frame whose window hears an onset (the louder of the window's level and
its newest 20 ms decides) and closes more softly (a one-pole smoother that is fast
rising, slower falling); a lone voiced frame (a click) shows once, while a voiced
stretch keeps the voice on for two frames after it. Until 2026-12-06 the next
frame's window fed a three-tap smoother: one more frame (40 ms) of delay on every
frame, and a softer onset (bench.live: p95 259-350 ms). Levels are normalised
against running percentiles of the last minute instead of the whole clip, starting
from a prior of speech at -20 dBFS over a quiet room. The acoustic path (level and
formants) works for any language and for singing. English phones are not used live:
pocketsphinx's phone loop, fed as the voice arrives, settles on a phone a median 190 ms
after the phone starts and never within 80 ms (bench/live_phones.py), beyond the
look-ahead."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..visemes import REST
from ..voice import _frames_features, level_db

ANALYSIS_RATE = 16_000
HISTORY_FRAMES = 1500          # a minute of levels for the running normalisation
VOICED_FLOOR_DB = -60.0        # nothing quieter than this is voice, whatever the room
PRIOR = (-20.0, -70.0)         # prior speech and silence levels (dBFS), 25 frames each
# One-pole smoothing of (jaw, spread, round, voice gate) per frame, rising and falling: a
# mouth opens for a syllable's onset within the frame that hears it and closes more softly.
ATTACK = np.array([0.9, 0.8, 0.8, 0.9])
RELEASE = np.array([0.45, 0.4, 0.4, 0.5])
HANGOVER = 2                   # frames the voice stays on after a voiced stretch of 2+ frames


def lookahead_seconds(fps: int) -> float:
    """Audio past a frame's centre needed before the frame can be made (half its window)."""
    return (int(ANALYSIS_RATE / fps * 1.5) // 2) / ANALYSIS_RATE


@dataclass(frozen=True)
class MouthFrame:
    jaw: float
    spread: float
    round: float
    closure: float
    tuck: float
    voiced: bool
    level_db: float
    prominence: float      # stressed-syllable strength (drives nods), < 0 when silent


class _Running:
    """Percentiles of the recent values, refreshed every `every` additions."""

    def __init__(self, prior: list[float], size: int = HISTORY_FRAMES, every: int = 12):
        self.values: deque[float] = deque(prior, maxlen=size)
        self.every, self._n, self._cache = every, 0, {}

    def add(self, v: float) -> None:
        self.values.append(v)
        self._n += 1
        if self._n % self.every == 0:
            self._cache.clear()

    def pct(self, q: float) -> float:
        if q not in self._cache:
            self._cache[q] = float(np.percentile(np.fromiter(self.values, float), q))
        return self._cache[q]


class StreamingMouth:
    """Feed 16 kHz mono float samples in order; `frames()` returns every frame whose
    look-ahead has arrived. `pad_to(n)` appends silence (the voice arrived late)."""

    def __init__(self, fps: int = 25, *, expression_scale: float = 1.0, jaw_offset: float = 0.0):
        self.fps = fps
        self._since_voiced, self._streak, self._last_streak = 99, 0, 0
        self.hop = ANALYSIS_RATE / fps
        self.win = int(self.hop * 1.5)
        self.scale, self.jaw0 = expression_scale, jaw_offset
        self.samples = 0                                  # received so far
        self._buf = np.zeros(self.win, np.float32)        # leading silence before 0
        self._buf_start = -self.win
        self._next_feat = 0                               # next frame whose features are due
        self._feats: deque = deque()                      # per frame: (level, periodicity, pitch, f1, f2)
        self._next_out = 0
        self._levels = _Running([PRIOR[0]] * 25 + [PRIOR[1]] * 25)
        self._voiced_levels = _Running([PRIOR[0] - 6, PRIOR[0], PRIOR[0] + 4] * 8)
        self._pitch = _Running([150.0, 200.0, 250.0] * 4, size=600)
        self._state = None                                # one-pole smoother state
        self._loud_prev = 0.0

    def _window_start(self, i: int) -> int:
        return int((i + 0.5) * self.hop) - self.win // 2

    def needed_samples(self, frame: int) -> int:
        """Samples that must have arrived before `frame` can be returned."""
        return self._window_start(frame) + self.win

    def feed(self, mono: np.ndarray) -> None:
        self._buf = np.concatenate([self._buf, np.asarray(mono, np.float32)])
        self.samples += len(mono)
        self._compute()

    def pad_to(self, samples: int) -> None:
        if samples > self.samples:
            self.feed(np.zeros(samples - self.samples, np.float32))

    def _compute(self) -> None:
        end = self._buf_start + len(self._buf)
        idx = []
        i = self._next_feat
        while self._window_start(i) + self.win <= end:
            idx.append(i)
            i += 1
        if idx:
            starts = np.array([self._window_start(j) - self._buf_start for j in idx])
            windows = self._buf[starts[:, None] + np.arange(self.win)[None, :]]
            rows = _frames_features(windows, ANALYSIS_RATE)
            # the level of the window's newest third (20 ms): an onset late in the window shows
            self._feats.extend(np.column_stack([rows[:, :5], level_db(windows[:, -(self.win // 3):])]))
            self._next_feat = i
        keep = self._window_start(self._next_feat) - self._buf_start
        if keep > 0:
            self._buf = self._buf[keep:]
            self._buf_start += keep

    def frames(self) -> list[MouthFrame]:
        """Every frame whose features are known, in order."""
        out = []
        while self._feats:
            cur = self._feats.popleft()
            out.append(self._frame(cur))
        return out

    # -- one frame ----------------------------------------------------------------
    def _is_voiced(self, level: float) -> bool:
        peak = self._levels.pct(97)
        floor = max(self._levels.pct(10), peak - 50.0)
        thresh = float(np.clip(floor + max(0.3 * (peak - floor), 6.0), peak - 45.0, peak - 12.0))
        return level > max(thresh, VOICED_FLOOR_DB)

    def _raw(self, row) -> tuple[float, float]:
        """(opening 0..1 before gating, f2 normalised) from one frame's features."""
        level, periodicity, pitch, f1, f2 = (float(v) for v in row[:5])
        active = float(np.mean([self._voiced_levels.pct(q) for q in (25, 50, 75)]))
        loud = level - active
        absolute = np.clip((loud + 24.0) / 28.0, 0.0, 1.0)
        lo, hi = self._voiced_levels.pct(5) - active, self._voiced_levels.pct(95) - active
        relative = np.clip((loud - lo) / max(hi - lo, 3.0), 0.0, 1.0)
        opening = (0.5 * absolute + 0.5 * relative) ** 0.9
        f1n = np.clip((f1 - 300.0) / 500.0, 0, 1) if f1 > 0 else 0.5
        f2n = (f2 - 1500.0) / 600.0 if (f2 > 0 and periodicity > 0.45) else 0.0
        return float(opening * (0.7 + 0.6 * f1n)), float(f2n)

    def _frame(self, cur) -> MouthFrame:
        """Frame i from its own window and the frames before it (no look-ahead): the
        voice turns on in the first voiced frame, and stays on for HANGOVER frames after
        a voiced stretch of two frames or more (a lone voiced frame, a click, shows once)."""
        level = float(cur[0])
        # the louder of the whole window and its newest 20 ms: the mouth opens in the frame
        # whose window hears the onset, even when the onset is in its last third
        heard = max(level, float(cur[5]))
        raw = self._is_voiced(heard)
        self._levels.add(level)
        if raw:
            self._streak += 1
            self._since_voiced = 0
            self._last_streak = self._streak
            self._voiced_levels.add(level)
            if cur[2] > 0:
                self._pitch.add(float(cur[2]))
        else:
            self._streak = 0
            self._since_voiced += 1
        voiced = raw or (self._since_voiced <= HANGOVER and self._last_streak >= 2)
        opening, f2n = self._raw((heard, *cur[1:5]))
        gate = float(voiced)
        values = np.array([opening * gate, 0.7 * np.clip(f2n, 0, 1) * gate, 0.7 * np.clip(-f2n, 0, 1) * gate, gate])
        if self._state is None:
            self._state = values
        else:
            k = np.where(values > self._state, ATTACK, RELEASE)
            self._state = self._state + k * (values - self._state)
        return self._finish(cur, level, voiced)

    def _finish(self, cur, level: float, voiced: bool) -> MouthFrame:
        jaw, spread, rnd, gate = (float(v) for v in self._state)
        closure = REST[3] * (1.0 - gate)
        jaw = np.clip(jaw * (1 - 0.9 * closure) - 0.03, 0.0, 1.0) / 0.97
        jaw = float(np.clip((jaw + self.jaw0 * (jaw > 0)) * self.scale, 0.0, 1.0))
        # prominence for nods: loudness and pitch peaks in voiced speech (as motion.stress_nods)
        active = self._voiced_levels.pct(50)
        loud = 0.6 * (level - active) + 0.4 * self._loud_prev
        self._loud_prev = loud
        pz = 0.0
        if cur[2] > 0:
            p25, p50, p75 = (self._pitch.pct(q) for q in (25, 50, 75))
            pz = (float(cur[2]) - p50) / max((p75 - p25) / 1.35, 1e-3)
        prominence = loud / 6.0 + 0.5 * pz if voiced else -9.0
        return MouthFrame(jaw=jaw, spread=spread * self.scale, round=rnd * self.scale, closure=float(closure),
                          tuck=0.0, voiced=bool(voiced), level_db=level, prominence=float(prominence))
