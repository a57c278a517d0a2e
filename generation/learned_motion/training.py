"""Training the motion model on the corpus' real talking videos, reproducibly.

Same corpus, seed and settings give the same weights on the same machine: one
thread, deterministic torch algorithms, a seeded generator for every random draw.
Evaluation uses videos held out of training."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import decode_audio
from ..controls import Controls
from ..motion import plan_motion
from ..voice import analyse_voice
from . import attributes, evaluate
from .dataset import PARAMS, VideoTrack, load_corpus
from .model import DiTConfig, MotionDiT
from .source import WEIGHTS, make_scheduler, sample_motion, settle, smooth_jaw, to_track

VERSION = "1"
HELD_OUT = ("hdtf_aoc", "retalking_face_3", "thb_real_spzzdvyb5x0_6", "voxceleb2_00015")
TINY_RUN = Path(__file__).resolve().parent / "weights" / "tiny_run.json"
TINY_NAMES = ("archival_film_speech", "retalking_face_1")


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 2500
    batch: int = 32
    lr: float = 4e-4
    weight_decay: float = 0.01
    seed: int = 0
    stride: int = 2
    known_prob: float = 0.5     # windows trained as continuations of a previous one
    drop_attr_prob: float = 0.1   # controls dropped (guidance on the controls)
    drop_all_prob: float = 0.1    # controls and audio dropped (guidance on both, as in VASA-1)
    blink_weight: float = 3.0     # blinks are rare events: weigh their channel up
    jaw_weight: float = 1.0       # the jaw carries the sync: weigh its channel up


def _determinism(seed: int):
    import torch  # noqa: PLC0415 - heavy (torch): only when training
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)


def windows(tracks: list[VideoTrack], window: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, W, 7) motion and (N, W, A) audio windows where the face was found throughout,
    and whether each window's blink channel is reliable."""
    ms, aus, oks = [], [], []
    for tr in tracks:
        for s in range(0, len(tr) - window + 1, stride):
            if tr.valid[s:s + window].mean() >= 0.9:
                ms.append(tr.motion[s:s + window]); aus.append(tr.audio[s:s + window]); oks.append(tr.blink_ok)
    if not ms:
        raise ValueError("no training windows: the videos are shorter than one window or faceless")
    return np.stack(ms).astype(np.float32), np.stack(aus).astype(np.float32), np.array(oks)


def train(tracks: list[VideoTrack], settings: TrainSettings = TrainSettings(), config: DiTConfig = DiTConfig(),
          log=None) -> tuple[MotionDiT, dict]:
    import torch  # noqa: PLC0415 - heavy (torch): only when training
    _determinism(settings.seed)
    motion, audio, blink_ok = windows(tracks, config.window, settings.stride)
    mirrored = motion.copy()
    mirrored[..., 4] *= -1; mirrored[..., 6] *= -1      # a left-right flip of the face
    motion = np.concatenate([motion, mirrored]); audio = np.concatenate([audio, audio])
    blink_ok = np.concatenate([blink_ok, blink_ok])
    attrs = np.stack([attributes.measure(m) for m in motion])
    model = MotionDiT(config)
    mean, std = motion.reshape(-1, 7).mean(0), motion.reshape(-1, 7).std(0) + 1e-4
    reliable = motion[blink_ok][..., 3]
    mean[3], std[3] = reliable.mean(), reliable.std() + 1e-4
    amean, astd = attrs.mean(0), attrs.std(0) + 1e-4
    model.motion_mean.copy_(torch.from_numpy(mean)); model.motion_std.copy_(torch.from_numpy(std))
    model.attr_mean.copy_(torch.from_numpy(amean)); model.attr_std.copy_(torch.from_numpy(astd))
    x0_all = torch.from_numpy((motion - mean) / std)
    aud_all = torch.from_numpy(audio)
    attr_all = torch.from_numpy((attrs - amean) / astd)
    chan_all = torch.ones(len(motion), 1, 7)
    chan_all[:, 0, 0] = settings.jaw_weight
    chan_all[:, 0, 3] = settings.blink_weight
    chan_all[torch.from_numpy(~blink_ok), 0, 3] = 0.0     # unmeasured blinks carry no loss
    sched = make_scheduler(config.train_timesteps)
    gen = torch.Generator().manual_seed(settings.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    lr_at = lambda s: settings.lr * min(1.0, (s + 1) / 100) * 0.5 * (1 + np.cos(np.pi * s / settings.steps))  # noqa: E731
    model.train()
    losses, started = [], time.perf_counter()
    for step in range(settings.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        idx = torch.randint(0, len(x0_all), (settings.batch,), generator=gen)
        x0, aud, att, chan = x0_all[idx], aud_all[idx], attr_all[idx], chan_all[idx]
        noise = torch.randn(x0.shape, generator=gen)
        t = torch.randint(0, config.train_timesteps, (settings.batch,), generator=gen)
        noisy = sched.add_noise(x0, noise, t)
        mask = torch.zeros(settings.batch, config.window, 1)
        cont = torch.rand(settings.batch, generator=gen) < settings.known_prob
        mask[cont, :config.overlap] = 1.0
        u = torch.rand(settings.batch, generator=gen)
        keep = (u >= settings.drop_all_prob + settings.drop_attr_prob).float()
        aud = aud * (u >= settings.drop_all_prob).float()[:, None, None]     # zero features: no audio
        pred = model(noisy, t, aud, x0, mask, att, keep)
        weight = 1.0 - 0.9 * mask            # known frames matter little
        err = (pred - x0) ** 2 * weight * chan
        vel = ((pred[:, 1:] - pred[:, :-1]) - (x0[:, 1:] - x0[:, :-1])) ** 2 * chan
        loss = err.mean() + 0.5 * vel.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if log and (step % 200 == 0 or step == settings.steps - 1):
            log(f"step {step}: loss {np.mean(losses[-200:]):.4f}")
    model.eval()
    info = {"windows": int(len(motion)), "final_loss": float(np.mean(losses[-50:])),
            "train_seconds": round(time.perf_counter() - started, 1),
            "typical_head_intensity": float(np.median(attrs[:, 4]))}
    return model, info


_voices: dict[str, object] = {}


def _voice(tr: VideoTrack):
    """The engine's own voice analysis (features and English phones) of a clip's audio."""
    if tr.source not in _voices:
        audio = decode_audio(tr.source)
        _voices[tr.source] = analyse_voice([audio.mono], sample_rate=audio.sample_rate, fps=25, phones=True)
    return _voices[tr.source]


def procedural_tracks(tracks: list[VideoTrack], seed: int = 0) -> list[np.ndarray]:
    """What the engine's procedural planner (generation.motion.plan_motion, lipsync
    "auto") makes of each clip's audio, cut to the clip's length."""
    out = []
    for tr in tracks:
        heard = _voice(tr)
        mt = plan_motion(heard.features, Controls(seed=seed), heard.phones, "auto")
        m = np.stack([getattr(mt, k) for k in PARAMS], axis=1)[:len(tr)]
        if len(m) < len(tr):
            m = np.concatenate([m, np.repeat(m[-1:], len(tr) - len(m), axis=0)])
        out.append(m)
    return out


def learned_tracks(model, tracks: list[VideoTrack], typical: float, seed: int = 0, jaw_sigma: float = 0.0,
                   guidance: float | None = None, **kw) -> list[np.ndarray]:
    if guidance is not None:
        kw["guidance"] = guidance
    controls = Controls(seed=seed)
    attrs = attributes.from_controls(controls, typical)
    out = []
    for tr in tracks:
        m = sample_motion(model, tr.audio, attrs, seed=seed, **kw)
        mt = to_track(smooth_jaw(settle(m, attrs), jaw_sigma), controls)
        out.append(np.stack([getattr(mt, k) for k in PARAMS], axis=1))
    return out


EVAL_SEEDS = 3     # generated motion is sampled this many times per clip (seed, seed+1, ...)


def evaluation(model, tracks: list[VideoTrack], typical: float, seed: int = 0, guidance: float | None = None,
               seeds: int = EVAL_SEEDS, jaw_sigma: float = 0.0) -> dict:
    """Both sources against the real tracks, each generated clip sampled `seeds` times
    (the real clips are paired with each sample for the per-clip measures)."""
    real = [tr.motion for tr in tracks] * seeds
    loud = [tr.loudness[:len(tr)] for tr in tracks] * seeds
    proc = [m for s in range(seed, seed + seeds) for m in procedural_tracks(tracks, s)]
    learned = [m for s in range(seed, seed + seeds)
               for m in learned_tracks(model, tracks, typical, s, jaw_sigma, guidance)]
    return evaluate.compare(real, loud, {"procedural": proc, "learned": learned},
                            blink_ok=[tr.blink_ok for tr in tracks] * seeds)


GUIDANCE_CHOICES = (1.0, 2.0, 3.0)
GUIDANCE_VIDEOS = 6


def _selection_subset(tracks: list[VideoTrack]) -> list[VideoTrack]:
    """An evenly spaced subset of GUIDANCE_VIDEOS training videos, for choices made after training."""
    step = max(1, len(tracks) // GUIDANCE_VIDEOS)
    return tracks[::step][:GUIDANCE_VIDEOS]


def choose_guidance(model, tracks: list[VideoTrack], typical: float, seed: int = 0) -> tuple[float, dict]:
    """The guidance scale whose motion is closest to the *training* videos (sum of the
    three distances) among those that keep their sync; never tuned on held-out clips.
    Uses an evenly spaced subset of GUIDANCE_VIDEOS training videos (CPU time)."""
    tracks = _selection_subset(tracks)
    scores = {}
    for g in GUIDANCE_CHOICES:
        ev = evaluation(model, tracks, typical, seed, guidance=g, seeds=1)
        d = ev["learned"]["distances"]
        synced = ev["learned"]["sync"]["corr"] >= ev["real"]["sync"]["corr"]
        scores[g] = {"sum": round(d["blink"] + d["head_spectrum"] + d["lip_speed"], 4), "synced": synced}
    pool = [g for g in GUIDANCE_CHOICES if scores[g]["synced"]] or list(GUIDANCE_CHOICES)
    return min(pool, key=lambda g: scores[g]["sum"]), scores


JAW_SIGMA_CHOICES = (0.0, 0.5, 0.75, 1.0, 1.5, 2.0)


def choose_smoothing(model, tracks: list[VideoTrack], typical: float, seed: int = 0,
                     guidance: float | None = None) -> tuple[float, dict]:
    """The jaw filter width (frames) whose lip-speed distribution is closest to the
    *training* videos', on the same subset as `choose_guidance`; never tuned on held-out
    clips. The motion is sampled once and filtered at each width."""
    tracks = _selection_subset(tracks)
    kw = {} if guidance is None else {"guidance": guidance}
    controls = Controls(seed=seed)
    attrs = attributes.from_controls(controls, typical)
    sampled = [settle(sample_motion(model, tr.audio, attrs, seed=seed, **kw), attrs) for tr in tracks]
    real = [tr.motion for tr in tracks]
    scores = {}
    for sigma in JAW_SIGMA_CHOICES:
        gen = []
        for m in sampled:
            mt = to_track(smooth_jaw(m, sigma), controls)
            gen.append(np.stack([getattr(mt, k) for k in PARAMS], axis=1))
        scores[sigma] = evaluate.distances(real, gen)["lip_speed"]
    return min(JAW_SIGMA_CHOICES, key=lambda s: scores[s]), scores


def save(model, path: Path, meta: dict) -> None:
    from safetensors.torch import save_file  # noqa: PLC0415 - heavy (torch): only when training
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path),
              metadata={k: v if isinstance(v, str) else json.dumps(v, default=float) for k, v in meta.items()})


def run(*, out: Path = WEIGHTS, settings: TrainSettings = TrainSettings(), log=print,
        names_train=None, names_eval=HELD_OUT) -> dict:
    """Extract (cached), train, evaluate on the held-out videos, write the weights."""
    tracks = load_corpus()
    if not tracks:
        raise FileNotFoundError("no videos in ../shared/corpus/videos to train on")
    held = [t for t in tracks if t.name in names_eval]
    train_set = [t for t in tracks if t.name not in names_eval and (names_train is None or t.name in names_train)]
    log(f"training on {len(train_set)} videos ({sum(map(len, train_set))} frames), "
        f"evaluating on {len(held)} held out")
    model, info = train(train_set, settings, log=log)
    guidance, scores = choose_guidance(model, train_set, info["typical_head_intensity"], seed=settings.seed)
    log(f"guidance {guidance} (training-set scores {scores})")
    jaw_sigma, jaw_scores = choose_smoothing(model, train_set, info["typical_head_intensity"], settings.seed, guidance)
    log(f"jaw smoothing {jaw_sigma} frames (training-set lip-speed distances {jaw_scores})")
    report = evaluation(model, held, info["typical_head_intensity"], seed=settings.seed, guidance=guidance,
                        jaw_sigma=jaw_sigma)
    meta = {"version": VERSION, "windows": info["windows"], "train_seconds": info["train_seconds"],
            "config": model.config.as_dict(), "settings": settings.__dict__,
            "train_videos": [t.name for t in train_set], "held_out": [t.name for t in held],
            "typical_head_intensity": info["typical_head_intensity"], "final_loss": info["final_loss"],
            "guidance": guidance, "guidance_scores": scores, "jaw_smoothing": jaw_sigma,
            "jaw_smoothing_scores": jaw_scores,
            "distances": {k: report[k]["distances"] for k in ("procedural", "learned")},
            "sync": {k: report[k]["sync"] for k in ("real", "procedural", "learned")}}
    save(model, Path(out), meta)
    return {**info, "params": model.n_params(), "weights": str(out), "evaluation": report, "meta": meta}


def tiny_run(seed: int = 0) -> dict:
    """A short, deterministic training on two videos: its loss is recorded in
    weights/tiny_run.json so that a test can check the training reproduces."""
    tracks = load_corpus(names=TINY_NAMES)
    settings = TrainSettings(steps=40, batch=16, seed=seed, stride=4)
    _, info = train(tracks, settings, DiTConfig(width=64, depth=2))
    return {"names": list(TINY_NAMES), "steps": settings.steps, "seed": seed, "final_loss": info["final_loss"],
            "windows": info["windows"]}


def committed(path: Path = WEIGHTS):
    """Weights and their metadata, decoded (JSON values parsed; a missing jaw filter is 0)."""
    from .source import load_model  # noqa: PLC0415 - heavy (torch): only when training
    model, raw = load_model(path)
    meta = {k: _decoded(v) for k, v in raw.items()}
    meta.setdefault("jaw_smoothing", 0.0)
    return model, meta


def check(path: Path = WEIGHTS, tolerance: float = 0.02) -> dict:
    """Re-evaluate committed weights on the held-out videos and compare with the
    distances recorded in them when they were trained."""
    model, meta = committed(path)
    held = load_corpus(names=meta["held_out"])
    report = evaluation(model, held, float(meta["typical_head_intensity"]), seed=meta["settings"]["seed"],
                        guidance=meta.get("guidance"), jaw_sigma=float(meta["jaw_smoothing"]))
    recorded = meta["distances"]["learned"]
    now = report["learned"]["distances"]
    diffs = {k: abs(now[k] - recorded[k]) for k in recorded}
    return {"recorded": recorded, "measured": now, "max_diff": max(diffs.values()),
            "ok": max(diffs.values()) <= tolerance, "evaluation": report}


def reevaluate(path: Path = WEIGHTS, log=print) -> dict:
    """Re-fit what is chosen after training (the jaw filter, on the training videos) for
    committed weights without retraining them, evaluate on the held-out videos and
    rewrite the weights' metadata (the tensors are unchanged)."""
    model, meta = committed(path)
    tracks = load_corpus()
    held = [t for t in tracks if t.name in meta["held_out"]]
    train_set = [t for t in tracks if t.name in meta["train_videos"]]
    typical, seed, guidance = float(meta["typical_head_intensity"]), meta["settings"]["seed"], meta.get("guidance")
    jaw_sigma, jaw_scores = choose_smoothing(model, train_set, typical, seed, guidance)
    log(f"jaw smoothing {jaw_sigma} frames (training-set lip-speed distances {jaw_scores})")
    report = evaluation(model, held, typical, seed=seed, guidance=guidance, jaw_sigma=jaw_sigma)
    meta.update({"jaw_smoothing": jaw_sigma, "jaw_smoothing_scores": jaw_scores,
                 "distances": {k: report[k]["distances"] for k in ("procedural", "learned")},
                 "sync": {k: report[k]["sync"] for k in ("real", "procedural", "learned")}})
    save(model, Path(path), meta)
    return {"windows": meta["windows"], "train_seconds": meta["train_seconds"], "final_loss": meta["final_loss"],
            "typical_head_intensity": typical, "params": model.n_params(), "weights": str(path),
            "evaluation": report, "meta": meta}


def _decoded(value: str):
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
