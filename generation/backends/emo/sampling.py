"""Hallo's sampling of one clip (its FaceAnimatePipeline): DDIM on the v-prediction
schedule, classifier-free guidance where the unconditional half has no face identity,
no face-region features, silent audio and no reference attention; the reference UNet
runs once per clip on the portrait and the motion frames (the previous clip's last
frames, or the portrait again for the first clip)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers import DDIMScheduler

from .audio_attention import RegionMasks
from .denoising_unet import Conditioning

MID = "mid_block.attentions.0.transformer_blocks.0"


def scheduler():
    """Hallo's configs/inference/default.yaml (zero-SNR, v-prediction, trailing DDIM)."""
    return DDIMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="linear",
                         clip_sample=False, steps_offset=1, prediction_type="v_prediction",
                         rescale_betas_zero_snr=True, timestep_spacing="trailing")


@dataclass
class ClipInputs:
    reference: torch.Tensor          # (1 + n_motion, 3, H, W) in -1..1: the portrait, then the motion frames
    identity: torch.Tensor           # (D,) face embedding
    face_region: torch.Tensor        # (3, H, W) 0/1 face-locator mask
    masks: RegionMasks               # one row each (1, h*w) per level
    audio: torch.Tensor              # (frames, window, layers, channels) wav2vec2 windows for the clip


@torch.no_grad()
def sample_clip(model, inputs: ClipInputs, *, steps: int, guidance: float, generator: torch.Generator,
                motion_scale: tuple[float, float, float] | None = None) -> torch.Tensor:
    """(frames, 3, H, W) in -1..1."""
    net, vae, bank = model.net, model.vae, model.bank
    dev, dt = model.device, model.dtype
    frames = inputs.audio.shape[0]
    guided = guidance > 1.0
    halves = 2 if guided else 1
    scale = vae.config.scaling_factor

    ident = inputs.identity.to(dev, dt)[None]
    tokens = net.imageproj(ident)
    if guided:
        tokens = torch.cat([net.imageproj(torch.zeros_like(ident)), tokens])          # (halves, k, cross)
    audio = net.audioproj(inputs.audio.to(dev, dt)[None])[0]                           # (frames, m, cross)
    if guided:
        audio = torch.cat([torch.zeros_like(audio), audio])
    located = net.face_locator(inputs.face_region.to(dev, dt)[None])                  # (1, C, h, w)
    located = located.expand(frames, -1, -1, -1)
    if guided:
        located = torch.cat([torch.zeros_like(located), located])
    rows = halves * frames
    masks = RegionMasks(*[[m.to(dev, dt).expand(rows, -1) for m in getattr(inputs.masks, r)]
                          for r in ("full", "face", "lip")])

    ref = inputs.reference.to(dev, dt)
    ref_latents = torch.cat([vae.encode(r[None]).latent_dist.mean for r in ref]) * scale
    per_half = ref_latents.shape[0]
    try:
        bank.clear()
        bank.mode, bank.halves = "write", halves
        net.reference_unet(ref_latents.repeat(halves, 1, 1, 1), torch.zeros((), device=dev, dtype=torch.long),
                           encoder_hidden_states=tokens.repeat_interleave(per_half, dim=0), return_dict=False)
        bank.mode, bank.uncond = "read", (frames if guided else 0)
        h, w = ref_latents.shape[2:]
        prefix = bank.motion_frames(MID, (h >> 3, w >> 3))
        cond = Conditioning(frames=frames, tokens=tokens.repeat_interleave(frames, dim=0), audio=audio, masks=masks,
                            motion_scale=motion_scale, motion_prefix=prefix)
        sched = scheduler()
        sched.set_timesteps(steps, device=dev)
        noise = torch.randn((frames, ref_latents.shape[1], h, w), generator=generator, dtype=torch.float32)
        latents = noise.to(dev, dt) * sched.init_noise_sigma
        for t in sched.timesteps:
            x = sched.scale_model_input(torch.cat([latents] * halves), t)
            pred = net.denoising_unet(x, t, cond, located)
            if guided:
                uncond, cond_pred = pred.chunk(2)
                pred = uncond + guidance * (cond_pred - uncond)
            latents = sched.step(pred, t, latents).prev_sample
    finally:
        bank.clear()
    return torch.cat([vae.decode(lat[None] / scale).sample for lat in latents]).float().clamp(-1, 1)
