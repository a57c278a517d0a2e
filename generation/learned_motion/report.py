"""The training report (docs/learned_motion.md): what was trained on, and how both
motion sources compare with the held-out real videos."""
from __future__ import annotations

import json

from .source import HEAD_SIGMA

LABELS = {"blink": "blink statistics", "head_spectrum": "head-motion spectrum", "lip_speed": "lip-speed distribution"}


def verdict(evaluation: dict) -> dict:
    """Which source is closer to the real videos on each measure, and the default."""
    d_p, d_l = evaluation["procedural"]["distances"], evaluation["learned"]["distances"]
    wins = [k for k in LABELS if d_l[k] < d_p[k]]
    real_sync = evaluation["real"]["sync"]["corr"]
    keeps_sync = (evaluation["learned"]["sync"]["corr"] >= real_sync
                  and evaluation["learned"]["jaw_vs_real_jaw"] >= evaluation["procedural"]["jaw_vs_real_jaw"] - 0.05)
    return {"learned_wins": wins, "keeps_sync": keeps_sync,
            "default": "learned" if len(wins) >= 2 and keeps_sync else "procedural"}


def render(result: dict, command: str) -> str:
    ev, meta = result["evaluation"], result["meta"]
    v = verdict(ev)
    without_psd = {k: {kk: vv for kk, vv in val.items() if kk != "head_psd"} for k, val in ev.items()}
    rows = []
    for key, label in LABELS.items():
        p, l = ev["procedural"]["distances"][key], ev["learned"]["distances"][key]
        rows.append(f"| {label} | {p:.3f} | {l:.3f} | {'learned' if l < p else 'procedural'} |")
    stat_rows = []
    for name in ("real", "procedural", "learned"):
        s = ev[name]
        stat_rows.append(
            f"| {name} | {s['blinks']['rate_per_min']:.1f} | {s['blinks']['mean_duration_ms']:.0f} | "
            f"{' / '.join(f'{x:.1f}' for x in s['head_std_deg'])} | {s['lip_speed']['mean']:.2f} / "
            f"{s['lip_speed']['p90']:.2f} | {s['jaw_mean']:.2f} | {s['sync']['corr']:.2f} "
            f"({s['sync']['lag_frames']:+.1f}) | {s.get('jaw_vs_real_jaw', 1.0):.2f} |")
    settings = meta["settings"]
    return f"""# Learned motion: training report

Written by `{command}`. The weights are `generation/learned_motion/weights/motion_dit.safetensors`
({result['params']:,} parameters, safetensors, no pickle).

## What is trained

A diffusion transformer ({meta['config']['depth']} blocks, width {meta['config']['width']},
adaLN-Zero conditioning as in DiT) generates {meta['config']['window']}-frame windows (2 s at 25 fps)
of the warp engine's motion parameters (jaw, smile, brow, blink, yaw, pitch, roll) from log-mel
audio features (40 bands, 10 ms hop, numpy), each window continuing the last
{meta['config']['overlap']} frames of the previous one. The diffusion timestep and five control
attributes (mean smile and brow of the window for the emotion, mean head direction for the gaze,
head-motion intensity) modulate every block; the attributes are dropped in
{settings.get('drop_attr_prob', 0):.0%} of training steps and attributes and audio together in
{settings.get('drop_all_prob', 0):.0%}, so sampling uses classifier-free guidance on both
(20 DDIM steps, diffusers' DDIMScheduler, x0 prediction; guidance scale {meta.get('guidance', 2.0)},
chosen among {', '.join(str(g) for g in (meta.get('guidance_scores') or {}))} as the one closest to the
*training* videos that keeps their sync). After sampling, the track's mean smile, brow and head
direction are moved to the asked-for values and its head movement scaled to the asked-for
intensity (`calibrate`): with no emotion labels and a dozen speakers, guidance alone moves them
too little. Before that the head pose is filtered with a Gaussian of {HEAD_SIGMA} frames
(`smooth_head`, a fixed design value): the model reproduces the frame-to-frame noise of dlib's
head poses in its training tracks, which rendered is head jitter. The sampled jaw is then filtered with a
Gaussian of {meta.get('jaw_smoothing', 0)} frames
(each 2 s window is denoised on its own, which leaves a frame-to-frame flutter on the mouth),
the width among {', '.join(str(k) for k in (meta.get('jaw_smoothing_scores') or {}))} whose lip-speed
distribution is closest to the *training* videos'. Each generated clip is sampled three times
(seeds 0-2) for the figures below.

Training data: motion tracks that dlib extracts from the corpus' real talking videos
(`../shared/corpus/videos`; 68 landmarks per frame, inner-lip gap, mouth width, brow height,
eye aspect ratio, head pose by solvePnP; normalised per clip to the engine's units; cached
under `var/learned_motion/`). Training videos ({len(meta['train_videos'])}):
{', '.join(meta['train_videos'])}. Held out for the evaluation below ({len(meta['held_out'])}):
{', '.join(meta['held_out'])}.

Settings: {settings['steps']} steps, batch {settings['batch']}, AdamW lr {settings['lr']},
seed {settings['seed']}, one CPU thread and deterministic torch algorithms, left-right mirroring;
{result['windows']} windows; final loss {result['final_loss']:.4f}; {result['train_seconds']:.0f} s of
training on a shared 2-core machine.

## Learned against procedural, on held-out real videos

Distances to the real videos' statistics (lower is better; see
`generation/learned_motion/evaluate.py`):

| measure | procedural | learned | closer |
|---|---|---|---|
{chr(10).join(rows)}

Statistics (blink rate per minute, mean blink duration, head pose standard deviation
yaw / pitch / roll in degrees, lip speed mean / 90th percentile in jaw units per second,
mean jaw opening, sync = correlation of jaw opening with loudness at the best lag within
+-2 frames (lag), jaw-vs-real = correlation with the real speaker's jaw on the same clip):

| source | blinks/min | blink ms | head std (deg) | lip speed | jaw | sync (lag) | jaw vs real |
|---|---|---|---|---|---|---|---|
{chr(10).join(stat_rows)}

Learned motion is closer on: {', '.join(LABELS[k] for k in v['learned_wins']) or 'none'}.
Sync kept (loudness correlation at least the real videos' and jaw-vs-real no worse than
procedural's by more than 0.05): {'yes' if v['keeps_sync'] else 'no'}.
**Default motion: {v['default']}.**

The procedural baseline is the engine's own planner (`generation.motion.plan_motion`, lipsync
"auto": loudness, formants and English phones) run on each held-out clip's audio with the
default controls. Its jaw is computed from the voice itself, so its loudness correlation is
far above real speakers'; that is why sync is judged against the real videos (and by how well
the jaw follows the real speaker's jaw) rather than against the procedural figure. The three
realism measures are on the engine's motion parameters; `generation.metrics` (issue 3)
measures rendered videos and is not used here.

## Reproducing

`python manage.py train_motion` re-extracts (cached), retrains with the same seed and settings
and rewrites the weights and this report; `python manage.py train_motion --reevaluate` keeps
the weights' tensors, re-fits the jaw filter on the training videos and rewrites their metadata
and this report; `python manage.py train_motion --check` re-evaluates
the committed weights on the held-out videos and compares with the distances recorded in
them; `tests/generation/test_learned_motion.py` retrains a tiny model briefly and compares its
loss with the value recorded in `weights/tiny_run.json`.

<details><summary>Evaluation JSON</summary>

```json
{json.dumps(without_psd, indent=1, default=float)}
```
</details>
"""
