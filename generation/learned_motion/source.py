"""Learned motion as a MotionSource: sample motion windows from the diffusion
transformer, each window continuing the last frames of the one before."""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..controls import Controls
from ..motion import MotionTrack, plan_motion
from ..threads import torch_threads
from .attributes import GAZE_PITCH_DEG, GAZE_YAW_DEG, from_controls, head_intensity
from .dataset import PARAMS
from .features import frame_features

WEIGHTS = Path(__file__).resolve().parent / "weights" / "motion_dit.safetensors"
DEFAULT_STEPS = 20
DEFAULT_GUIDANCE = 2.0
_lock = threading.Lock()


def make_scheduler(train_timesteps: int = 1000):
    from diffusers import DDIMScheduler  # noqa: PLC0415 - heavy (diffusers): loaded with the model
    return DDIMScheduler(num_train_timesteps=train_timesteps, beta_schedule="squaredcos_cap_v2",
                         prediction_type="sample", clip_sample=False, set_alpha_to_one=True,
                         timestep_spacing="trailing")


def load_model(path: str | Path = WEIGHTS):
    """The model and its metadata from a safetensors file (no pickle)."""
    from safetensors import safe_open  # noqa: PLC0415 - heavy (torch): loaded with the model
    from safetensors.torch import load_file  # noqa: PLC0415 - heavy (torch): loaded with the model

    from .model import DiTConfig, MotionDiT  # noqa: PLC0415 - heavy (torch): loaded with the model
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"learned motion weights not found at {path}; run `manage.py train_motion`")
    with safe_open(str(path), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
    config = DiTConfig(**json.loads(meta["config"]))
    model = MotionDiT(config)
    model.load_state_dict(load_file(str(path)), strict=True)
    model.eval()
    return model, meta


@lru_cache(maxsize=2)
def _cached(path: str):
    return load_model(path)


def sample_motion(model, audio: np.ndarray, attrs: np.ndarray, *, seed: int = 0, steps: int = DEFAULT_STEPS,
                  guidance: float = DEFAULT_GUIDANCE) -> np.ndarray:
    """(n, 7) motion in engine units for (n, A) audio features."""
    import torch  # noqa: PLC0415 - heavy (torch): loaded with the model
    cfg = model.config
    n, W, O = len(audio), cfg.window, cfg.overlap
    mean, std = model.motion_mean.numpy(), model.motion_std.numpy()
    a_norm = torch.from_numpy(((attrs - model.attr_mean.numpy()) / model.attr_std.numpy()).astype(np.float32))[None]
    gen = torch.Generator().manual_seed(int(seed))
    sched = make_scheduler(cfg.train_timesteps)
    out = np.zeros((n, 7), np.float32)
    start, prev = 0, None
    with torch.no_grad():
        while True:
            idx = np.clip(np.arange(start, start + W), 0, n - 1)
            aud = torch.from_numpy(audio[idx].astype(np.float32))[None]
            known = torch.zeros(1, W, 7)
            mask = torch.zeros(1, W, 1)
            if prev is not None:
                known[0, :O] = torch.from_numpy((prev - mean) / std)
                mask[0, :O] = 1.0
            x = torch.randn(1, W, 7, generator=gen)
            sched.set_timesteps(steps)
            for t in sched.timesteps:
                tt = t.expand(2)
                # conditional: audio and controls; unconditional: neither (zero audio features)
                pred = model(torch.cat([x, x]), tt, torch.cat([aud, torch.zeros_like(aud)]), torch.cat([known, known]),
                             torch.cat([mask, mask]), torch.cat([a_norm, a_norm]), torch.tensor([1.0, 0.0]))
                guided = pred[1:] + guidance * (pred[:1] - pred[1:])
                x = sched.step(guided, t, x, eta=0.0).prev_sample
            window = x[0].numpy() * std + mean
            lo = 0 if prev is None else O
            end = min(n, start + W)
            out[start + lo:end] = window[lo:end - start]
            if end >= n:
                break
            prev = window[W - O:W]
            start += W - O
    return out


def calibrate(motion: np.ndarray, target: np.ndarray, window: int = 50) -> np.ndarray:
    """Move what guidance left unmet onto the asked-for attributes: the track's mean
    smile, brow and head direction are shifted to the targets, and the head's movement
    about its mean is scaled to the target intensity (at most 4x either way). The
    corpus has no emotion labels and only a dozen speakers, so guidance alone moves
    these means too little; the dynamics stay the model's."""
    m = motion.copy()
    m[:, 1] += target[0] - m[:, 1].mean()
    m[:, 2] += target[1] - m[:, 2].mean()
    pose_mean = m[:, 4:7].mean(axis=0)
    starts = range(0, max(1, len(m) - window + 1), window // 2)
    achieved = float(np.mean([head_intensity(m[s:s + window]) for s in starts]))
    gain = np.clip(target[4] / max(achieved, 1e-3), 0.25, 4.0) if target[4] > 0 else 0.0
    m[:, 4:7] = (m[:, 4:7] - pose_mean) * gain
    m[:, 4] += target[2] * GAZE_YAW_DEG
    m[:, 5] += target[3] * GAZE_PITCH_DEG
    return m


HEAD_SIGMA = 3.0     # frames


def _smooth(motion: np.ndarray, cols: slice, sigma: float) -> np.ndarray:
    """A copy with a Gaussian (sigma in frames) along time on the given columns; 0 leaves
    the track as it is."""
    if sigma <= 0:
        return motion
    m = motion.copy()
    m[:, cols] = gaussian_filter1d(m[:, cols], float(sigma), axis=0, mode="nearest")
    return m


def smooth_head(motion: np.ndarray, sigma: float = HEAD_SIGMA) -> np.ndarray:
    """The sampled head pose with a Gaussian (sigma in frames). dlib's head poses in the
    training tracks carry frame-to-frame measurement noise (a median change of slope of
    about 0.9 degrees per frame, against 0.013 for the procedural planner), which the
    model reproduces; rendered, it is head jitter (landmark jitter p99 0.345 over the
    engine's quality sweep, twice the real videos' 0.175). Three frames (0.12 s) keeps
    the slow sway and nods (1 Hz passes at three quarters, 2 Hz at a third) and brings
    the rendered jitter under the real videos' p99 in 68 of 69 sweep clips
    (docs/benchmarks.md, issue 9)."""
    return _smooth(motion, slice(4, 7), sigma)


def settle(motion: np.ndarray, attrs: np.ndarray) -> np.ndarray:
    """A sampled track made ready for the jaw filter and the engine: the head smoothed,
    then calibrated to the asked-for attributes (so the smoothing does not eat the
    asked-for head movement)."""
    return calibrate(smooth_head(motion), attrs)


def smooth_jaw(motion: np.ndarray, sigma: float) -> np.ndarray:
    """The sampled jaw with a light Gaussian (sigma in frames): each 2 s window is
    denoised on its own, which leaves frame-to-frame flutter on the mouth that real jaws
    do not have. The width is chosen on the training videos (`training.choose_smoothing`)
    and recorded in the weights; 0 leaves the track as sampled."""
    return _smooth(motion, slice(0, 1), sigma)


def to_track(motion: np.ndarray, controls: Controls) -> MotionTrack:
    """Engine ranges and the controls the model is not conditioned on (expression scale,
    a zero blink rate)."""
    m = motion.copy()
    s = controls.expression_scale
    m[:, 0] = np.clip(m[:, 0] * s, 0.0, 1.0)
    m[:, 1:3] = np.clip(m[:, 1:3] * s, -1.0, 1.0)
    m[:, 3] = np.clip(m[:, 3], 0.0, 1.0) * (controls.blink_rate > 0)
    m = m.astype(np.float32)
    return MotionTrack(**{k: m[:, i].copy() for i, k in enumerate(PARAMS)})


class LearnedMotion:
    """MotionSource: audio features -> sampled motion track."""
    name = "learned"

    def __init__(self, weights: str | Path = WEIGHTS, steps: int = DEFAULT_STEPS, guidance: float | None = None):
        self.model, self.meta = _cached(str(weights))
        # the scale chosen at training time (on the training videos), unless one is given
        self.steps = steps
        self.guidance = guidance if guidance is not None else float(json.loads(self.meta.get("guidance", "null"))
                                                                    or DEFAULT_GUIDANCE)
        self.version = self.meta.get("version", "unknown")
        self.jaw_sigma = float(json.loads(self.meta.get("jaw_smoothing", "0")))

    def plan_from_audio(self, mono: np.ndarray, n_frames: int, controls: Controls) -> MotionTrack:
        feats = frame_features(mono, n_frames, controls.fps)
        attrs = from_controls(controls, float(self.meta.get("typical_head_intensity", 1.0)))
        with _lock, torch_threads(1):
            motion = sample_motion(self.model, feats, attrs, seed=controls.seed, steps=self.steps,
                                   guidance=self.guidance)
        return to_track(smooth_jaw(settle(motion, attrs), self.jaw_sigma), controls)

    def plan(self, analysis, controls: Controls) -> MotionTrack:
        """The learned jaw, smile, brow, blinks and head pose; where the engine's voice
        analysis is at hand, the channels the model was not trained on (lip shapes, gaze,
        head translation) come from the procedural planner, so the mouth keeps its shapes."""
        learned = self.plan_from_audio(analysis.audio.mono, analysis.frames, controls)
        heard = analysis.extra.get("voice") if isinstance(getattr(analysis, "extra", None), dict) else None
        if heard is None:
            return learned
        procedural = plan_motion(heard.features, controls, heard.phones, controls.lipsync)
        n = min(len(procedural), len(learned))
        cut = {f: getattr(procedural, f)[:n] for f in ("spread", "round", "closure", "tuck", "gaze_x", "gaze_y",
                                                        "tx", "ty", "scale")}
        return replace(procedural, **cut, **{k: getattr(learned, k)[:n] for k in PARAMS})
