"""Per-frame motion parameters from the voice and the controls.

The mouth: opening from the normalised loudness and the first formant, mouth shape
(spread, rounding, closure, lower-lip tuck) from English phones (pocketsphinx) mapped
to visemes with coarticulation, or from the formants (any language, singing), or a
blend weighted by how much of the voice the phone recogniser explained (`lipsync`
"auto"). Smoothing is zero-phase, so the mouth neither leads nor lags the voice.

The rest: emotion offsets (smile, brows), blinks at a randomised natural rate and
duration, gaze with small saccades, and a head that nods on stressed syllables on
top of smooth noise (yaw, pitch, roll, a little translation and scale). Every random
draw comes from the seed, each aspect from its own stream: same inputs and seed,
same motion."""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .controls import LIPSYNC_MODES, Controls
from .phonemes import Phone, coverage
from .visemes import REST, viseme_curves
from .voice import VoiceFeatures, summarise

# (smile, brow raise, extra jaw opening) per emotion
EMOTION_OFFSETS = {
    "neutral": (0.0, 0.0, 0.0),
    "happy": (0.8, 0.15, 0.0),
    "sad": (-0.5, -0.3, 0.0),
    "angry": (-0.2, -0.8, 0.0),
    "surprised": (0.0, 1.0, 0.15),
}


@dataclass(frozen=True)
class MotionTrack:
    jaw: np.ndarray      # 0..1 mouth opening
    smile: np.ndarray    # -1..1 (negative: corners down)
    brow: np.ndarray     # -1..1 (negative: frown)
    blink: np.ndarray    # 0..1 eyelid closure
    yaw: np.ndarray      # degrees
    pitch: np.ndarray    # degrees (positive: head down)
    roll: np.ndarray     # degrees
    spread: np.ndarray = None   # 0..1 lips wide (i, e)
    round: np.ndarray = None    # 0..1 lips rounded (o, u, w)
    closure: np.ndarray = None  # 0..1 lips pressed (p, b, m)
    tuck: np.ndarray = None     # 0..1 lower lip to the upper teeth (f, v)
    gaze_x: np.ndarray = None   # -1..1, to the subject's left
    gaze_y: np.ndarray = None   # -1..1, up
    tx: np.ndarray = None       # head translation, face widths
    ty: np.ndarray = None
    scale: np.ndarray = None    # head scale (distance), 1 = as in the photo
    lipsync: str = "acoustic"   # the mouth-shape source used
    confidence: float = 0.0     # phone recogniser's coverage of the voice

    def __post_init__(self):
        n = len(self.jaw)
        for f in fields(self):
            if getattr(self, f.name) is None:
                object.__setattr__(self, f.name, np.full(n, 1.0 if f.name == "scale" else 0.0, np.float32))

    def __len__(self) -> int:
        return len(self.jaw)

    def frame(self, i: int) -> dict[str, float]:
        return {k: float(getattr(self, k)[i]) for k in PARAM_NAMES}


PARAM_NAMES = ("jaw", "smile", "brow", "blink", "yaw", "pitch", "roll", "spread", "round", "closure", "tuck",
               "gaze_x", "gaze_y", "tx", "ty", "scale")


def zero_phase(x: np.ndarray, k: float) -> np.ndarray:
    """One-pole low-pass run forwards then backwards: smooth, with no delay."""
    def one(v):
        out = np.empty_like(v)
        y = v[0] if len(v) else 0.0
        for i, s in enumerate(v):
            y += k * (s - y)
            out[i] = y
        return out
    x = np.asarray(x, np.float64)
    if len(x) == 0:
        return x.astype(np.float32)
    return one(one(x)[::-1])[::-1].astype(np.float32)


def _smooth_noise(n: int, rng: np.random.Generator, period_frames: float) -> np.ndarray:
    """Band-limited noise with unit standard deviation (sum of random sines)."""
    t = np.arange(n, dtype=np.float64)
    out = np.zeros(n)
    for _ in range(4):
        f = rng.uniform(0.5, 1.5) / period_frames
        out += np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) * rng.uniform(0.6, 1.0)
    return (out / (np.std(out) + 1e-9)).astype(np.float32) if n > 1 else np.zeros(n, np.float32)


def blinks(n: int, fps: int, rate_per_min: float, rng: np.random.Generator) -> np.ndarray:
    """Eyelid closure per frame, whatever the voice does (people blink while they talk
    as much as in pauses): blinks at intervals of 0.6 to 1.4 times the mean interval
    (regular enough that every clip of 6 s or more keeps the set rate, random enough to
    look natural), the first within 0.15-0.7 of it, lasting 180-320 ms each: a quick
    close, shut for 2-3 whole frames (so the closed eye survives compression and a
    12.5 Hz measurement), a slower opening."""
    out = np.zeros(n, np.float32)
    if rate_per_min <= 0:
        return out
    mean_gap = 60.0 * fps / rate_per_min
    t = rng.uniform(0.15, 0.7) * mean_gap
    while t < n:
        dur = rng.uniform(0.18, 0.32) * fps
        close = max(1, int(round(0.25 * dur)))
        hold = max(2, int(round(0.3 * dur)))
        opening = max(1.0, dur - close - hold)
        start = int(t)
        for k in range(1, close + hold + int(np.ceil(opening)) + 1):
            i = start + k
            if i >= n:
                break
            if k <= close:
                v = np.sin(0.5 * np.pi * k / (close + 1))
            elif k <= close + hold:
                v = 1.0
            else:
                v = np.cos(0.5 * np.pi * min((k - close - hold) / (opening + 1), 1.0))
            out[i] = max(out[i], v)
        t += max(dur + 0.25 * fps, rng.uniform(0.6, 1.4) * mean_gap)
    return out


def saccades(n: int, fps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Small gaze jumps every 0.8-3 s, each done in two frames."""
    gx, gy = np.zeros(n, np.float32), np.zeros(n, np.float32)
    t, x, y = 0, 0.0, 0.0
    while t < n:
        hold = int(rng.uniform(0.8, 3.0) * fps)
        nx, ny = float(np.clip(rng.normal(0, 0.12), -0.25, 0.25)), float(np.clip(rng.normal(0, 0.06), -0.15, 0.15))
        gx[t:t + 1], gy[t:t + 1] = (x + nx) / 2, (y + ny) / 2
        gx[t + 1:t + hold], gy[t + 1:t + hold] = nx, ny
        x, y, t = nx, ny, t + hold
    return gx, gy


def stress_nods(f: VoiceFeatures, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A short downward nod (degrees) and brow flash on prominent syllables: loudness
    and pitch peaks in voiced speech, at least 0.35 s apart."""
    n, fps = len(f), f.fps
    nod, flash = np.zeros(n, np.float32), np.zeros(n, np.float32)
    if n < 5 or not f.voiced.any():
        return nod, flash
    loud = zero_phase(f.loudness, 0.6)
    pv = f.pitch[f.pitch > 0]
    pz = np.where(f.pitch > 0, (f.pitch - pv.mean()) / (pv.std() + 1e-6), 0) if len(pv) > 3 else np.zeros(n)
    prom = np.where(f.voiced, loud / 6.0 + 0.5 * pz, -9)
    peaks = [i for i in range(1, n - 1) if prom[i] >= prom[i - 1] and prom[i] > prom[i + 1] and prom[i] > 0.3]
    kept = []
    for i in sorted(peaks, key=lambda j: -prom[j]):
        if all(abs(i - k) >= int(0.35 * fps) for k in kept):
            kept.append(i)
    width = int(0.4 * fps)
    shape = np.sin(np.linspace(0, np.pi, width)) ** 2
    for i in kept:
        amp = min(prom[i], 2.0) / 2.0 * rng.uniform(1.2, 2.2)
        s = i - width // 3
        lo, hi = max(0, s), min(n, s + width)
        nod[lo:hi] += amp * shape[lo - s:hi - s]
        flash[lo:hi] += 0.25 * amp / 2.2 * shape[lo - s:hi - s]
    return nod, flash


def loudness_opening(f: VoiceFeatures) -> np.ndarray:
    """0..1 from the normalised level, half on an absolute scale and half relative to
    the clip's own range of voiced levels, so that a compressed track (singing over
    music, little dynamic range) still moves the mouth."""
    absolute = np.clip((f.loudness + 24.0) / 28.0, 0.0, 1.0)
    v = f.loudness[f.voiced] if f.voiced.sum() > 4 else f.loudness
    lo, hi = np.percentile(v, 5), np.percentile(v, 95)
    relative = np.clip((f.loudness - lo) / max(hi - lo, 3.0), 0.0, 1.0)
    return (0.5 * absolute + 0.5 * relative) ** 0.9


def acoustic_mouth(f: VoiceFeatures) -> np.ndarray:
    """(n, 6): jaw, spread, round, closure, tuck, openness from level and formants."""
    n = len(f)
    out = np.zeros((n, 6), np.float32)
    opening = loudness_opening(f)
    f1n = np.where(f.f1 > 0, np.clip((f.f1 - 300.0) / 500.0, 0, 1), 0.5)
    opening = opening * (0.7 + 0.6 * f1n)
    gate = zero_phase(f.voiced.astype(np.float32), 0.7)
    out[:, 0] = np.clip(opening * gate, 0, 1)
    voiced = (f.f2 > 0) & (f.periodicity > 0.45)
    f2n = np.where(voiced, (f.f2 - 1500.0) / 600.0, 0.0)
    out[:, 1] = 0.7 * np.clip(f2n, 0, 1)
    out[:, 2] = 0.7 * np.clip(-f2n, 0, 1)
    out[:, 3] = REST[3] * (1 - gate)      # lips together at rest
    return out


def steady_pitch_share(f: VoiceFeatures) -> float:
    """Share of voiced frames inside held notes: runs of 5+ frame steps (200 ms) whose
    pitch changes by under 3 % a step. Sung notes are held; speech glides (corpus:
    speech 0.00-0.19, the sung track 0.28)."""
    p = f.pitch
    v = p > 0
    if v.sum() < 10:
        return 0.0
    lp = np.log(np.where(v, p, 1.0))
    steady = (np.abs(np.diff(lp)) < 0.03) & v[1:] & v[:-1]
    held, run = 0, 0
    for x in np.append(steady, False):
        if x:
            run += 1
        else:
            held += run if run >= 5 else 0
            run = 0
    return float(held / v.sum())


def lipsync_weight(f: VoiceFeatures, phones: list[Phone] | None, mode: str) -> tuple[float, float]:
    """(weight of the phone path, recogniser confidence). `auto` trusts the phones in
    proportion to how much of the voice they explain, and less for song (held notes,
    see `steady_pitch_share`)."""
    if not phones or mode == "acoustic":
        return 0.0, 0.0
    conf = coverage(phones, f.voiced, f.fps)
    if mode == "phonemes":
        return 1.0, conf
    w = np.clip((conf - 0.5) / 0.3, 0.0, 1.0)
    if steady_pitch_share(f) >= 0.25:            # sung notes: the formants are the better guide
        w *= 0.3
    return float(w), conf


def plan_motion(f: VoiceFeatures, controls: Controls, phones: list[Phone] | None = None,
                lipsync: str = "auto") -> MotionTrack:
    if lipsync not in LIPSYNC_MODES:
        raise ValueError(f"lipsync must be one of {', '.join(LIPSYNC_MODES)}")
    n, fps = len(f), controls.fps
    seeds = np.random.SeedSequence(controls.seed).spawn(6)
    r_blink, r_gaze, r_head, r_nod, r_face, _ = (np.random.default_rng(s) for s in seeds)
    scale = controls.expression_scale
    smile0, brow0, jaw0 = EMOTION_OFFSETS[controls.emotion]

    ac = acoustic_mouth(f)
    w, conf = lipsync_weight(f, phones, lipsync)
    shapes = ac[:, 1:5].copy()
    jaw = ac[:, 0].copy()
    if w > 0:
        vis = viseme_curves(phones, n, fps)          # open, spread, round, closure, tuck
        gate = zero_phase(f.voiced.astype(np.float32), 0.7)
        # where the voice is silent the recogniser's phones are noise: the mouth rests
        vis = gate[:, None] * vis + (1 - gate[:, None]) * np.array(REST[:5], np.float32)[None, :]
        level = loudness_opening(f) * gate
        jaw_ph = np.clip(level * (0.35 + 0.9 * vis[:, 0]), 0, 1)
        jaw = (1 - w) * jaw + w * jaw_ph
        shapes = (1 - w) * shapes + w * vis[:, 1:5]
    jaw = zero_phase(jaw, 0.75)
    shapes = np.stack([zero_phase(shapes[:, k], 0.6) for k in range(4)], 1)
    closure = np.maximum(shapes[:, 2], 0)
    jaw = np.clip(jaw * (1 - 0.9 * closure) - 0.03, 0.0, 1.0) / 0.97
    jaw = np.clip((jaw + jaw0 * (jaw > 0)) * scale, 0.0, 1.0)

    nod, flash = stress_nods(f, r_nod)
    speaking = zero_phase(f.voiced.astype(np.float32), 0.08)
    smile = np.clip(smile0 * scale + 0.06 * scale * _smooth_noise(n, r_face, 4.0 * fps), -1, 1)
    brow = np.clip(brow0 * scale + 0.12 * scale * _smooth_noise(n, r_face, 2.5 * fps) + scale * flash, -1, 1)
    blink = blinks(n, fps, controls.blink_rate, r_blink)
    sx, sy = saccades(n, fps, r_gaze)
    gaze_x = np.clip(controls.gaze[0] + sx, -1, 1)
    gaze_y = np.clip(controls.gaze[1] + sy, -1, 1)
    hm = controls.head_motion
    liveliness = 0.6 + 0.4 * speaking
    yaw = hm * 2.5 * _smooth_noise(n, r_head, 3.0 * fps) * liveliness
    pitch = hm * (1.2 * _smooth_noise(n, r_head, 2.0 * fps) * liveliness + nod)
    roll = hm * 1.0 * _smooth_noise(n, r_head, 4.0 * fps)
    tx = hm * 0.008 * _smooth_noise(n, r_head, 5.0 * fps)
    ty = hm * 0.005 * _smooth_noise(n, r_head, 4.0 * fps)
    head_scale = 1.0 + hm * 0.01 * _smooth_noise(n, r_head, 6.0 * fps)
    f32 = lambda a: np.asarray(a, np.float32)
    return MotionTrack(jaw=f32(jaw), smile=f32(smile), brow=f32(brow), blink=f32(blink), yaw=f32(yaw),
                       pitch=f32(pitch), roll=f32(roll),
                       spread=f32(shapes[:, 0] * scale), round=f32(shapes[:, 1] * scale),
                       closure=f32(np.clip(shapes[:, 2], 0, 1)), tuck=f32(shapes[:, 3] * scale),
                       gaze_x=f32(gaze_x), gaze_y=f32(gaze_y), tx=f32(tx), ty=f32(ty), scale=f32(head_scale),
                       lipsync="acoustic" if w == 0 else ("phonemes" if w == 1 else "blend"), confidence=conf)


def motion_from_loudness(loudness_db: np.ndarray, controls: Controls) -> MotionTrack:
    """The acoustic path from frame loudness alone (no formants, no phones)."""
    rows = np.zeros((len(loudness_db), 6), np.float32)
    rows[:, 0] = loudness_db
    return plan_motion(summarise(rows, controls.fps), controls, None, "acoustic")
