"""Speed of the Hallo-architecture diffusion backend on a GPU:
`python -m bench.diffusion_speed --json [--seconds 4] [--steps 40]`.

Builds the full-size networks (Hallo's net.pth layout from the SD 1.5 UNet config,
2.4 billion parameters, float16) with random weights, an SD-sized VAE and the
backend's inputs from a corpus portrait (dlib landmarks -> masks) and random audio
features, then samples 512 x 512 clips the way the backend does (16 frames, 2 motion
frames, guidance 3.5, DDIM). Random weights give noise, not faces: this measures
seconds per frame and peak GPU memory, nothing about quality. `--tiny` runs the same
path with the tiny test dimensions on the CPU, to check the bench itself;
`--full-size-cpu` runs the full-size networks on the CPU in bfloat16 at 64 x 64
(8 x 8 latents, one step, two frames): every full-size layer once, with no GPU
(about 6 GB of memory and a few minutes)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from diffusers import AutoencoderKL

from generation.backends.emo.audio_attention import RegionMasks
from generation.backends.emo.face_inputs import face_masks
from generation.backends.emo.layout import HALLO_SMALL, SD15_UNET, build
from generation.backends.emo.reference import ReferenceBank, install
from generation.backends.emo.sampling import ClipInputs, sample_clip
from generation.backends.emo.weights import TINY_SMALL, TINY_UNET, TINY_VAE, EmoModel
from generation.face import analyse_face
from generation.framing import frame_portrait
from generation.images import load_image_file

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SD_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512),
              down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
              layers_per_block=2, norm_num_groups=32, sample_size=512, scaling_factor=0.18215)


def build_model(tiny: bool, device: str, dtype, small_latent: bool = False):
    torch.manual_seed(0)
    unet = TINY_UNET if tiny else dict(SD15_UNET, sample_size=8) if small_latent else SD15_UNET
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype if small_latent else default)     # bfloat16 from the start: half the memory
    try:
        net = build(unet, device, **(TINY_SMALL if tiny else HALLO_SMALL))
        with torch.device(device):
            vae = AutoencoderKL(**(TINY_VAE if tiny or small_latent else SD_VAE))
    finally:
        torch.set_default_dtype(default)
    bank = ReferenceBank()
    install(net.reference_unet, bank)
    install(net.denoising_unet, bank)
    for m in (net, vae):
        m.to(device=device, dtype=dtype).eval().requires_grad_(False)
    return EmoModel(net, vae, bank, paths=None, device=device, dtype=dtype)


def inputs_for(model, photo: Path, frames: int, motion_frames: int, seed: int):
    res = model.resolution
    rgb = load_image_file(photo)
    framed = frame_portrait(rgb, analyse_face(rgb), res)
    region, masks = face_masks(framed.landmarks, res, res // model.vae_scale)
    pixels = torch.from_numpy(np.stack([framed.image] * (1 + motion_frames))).permute(0, 3, 1, 2).float() / 127.5 - 1
    ap = model.net.audioproj
    g = torch.Generator().manual_seed(seed)
    return ClipInputs(reference=pixels, identity=torch.randn(model.net.imageproj.proj.in_features, generator=g),
                      face_region=torch.from_numpy(region).permute(2, 0, 1),
                      masks=RegionMasks(*[[torch.from_numpy(m)[None] for m in masks[r]]
                                          for r in ("full", "face", "lip")]),
                      audio=torch.randn(frames, ap.seq_len, ap.blocks, ap.channels, generator=g))


def run(seconds: float, steps: int, clip_frames: int, motion_frames: int, guidance: float, tiny: bool,
        device: str, photo: Path, fps: int = 25, small_latent: bool = False) -> dict:
    cuda = device.startswith("cuda")
    dtype = torch.float16 if cuda else torch.bfloat16 if small_latent else torch.float32
    started = time.perf_counter()
    model = build_model(tiny, device, dtype, small_latent)
    build_s = time.perf_counter() - started
    frames = int(np.ceil(seconds * fps))
    clips = -(-frames // clip_frames)
    inputs = inputs_for(model, photo, clip_frames, motion_frames, seed=0)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    previous = None
    for clip in range(clips + 1):                 # one extra clip first: warm-up, not counted
        if previous is not None:                  # carry the last frames as motion frames, as the backend does
            inputs.reference = torch.cat([inputs.reference[:1], previous[-motion_frames:].cpu()])
        t = time.perf_counter()
        video = sample_clip(model, inputs, steps=steps, guidance=guidance,
                            generator=torch.Generator().manual_seed(clip), motion_scale=(1.1, 1.1, 1.1))
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
        previous = video
    counted = sum(times[1:])
    out = {"device": torch.cuda.get_device_name(0) if cuda else "cpu", "tiny": tiny, "full_size_cpu": small_latent,
           "resolution": model.resolution, "dtype": str(dtype).replace("torch.", ""),
           "parameters": sum(p.numel() for p in model.net.parameters()), "audio_seconds": seconds, "fps": fps,
           "frames": clips * clip_frames, "clips": clips, "clip_frames": clip_frames, "motion_frames": motion_frames,
           "steps": steps, "guidance": guidance, "build_seconds": round(build_s, 2),
           "finite": bool(torch.isfinite(previous).all()),
           "warmup_clip_seconds": round(times[0], 2), "seconds_per_clip": round(counted / clips, 3),
           "seconds_per_frame": round(counted / (clips * clip_frames), 4),
           "realtime_factor": round(counted / (clips * clip_frames / fps), 2)}
    if cuda:
        out["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
        out["peak_gpu_reserved_mib"] = round(torch.cuda.max_memory_reserved() / 2**20)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=4.0, help="audio length to render (default 4 s at 25 fps)")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--clip-frames", type=int, default=16)
    p.add_argument("--motion-frames", type=int, default=2)
    p.add_argument("--guidance", type=float, default=3.5)
    p.add_argument("--photo", type=Path, default=CORPUS / "photos" / "elizabeth_olsen.jpg")
    p.add_argument("--tiny", action="store_true", help="tiny dimensions on the CPU (checks the bench, no figures)")
    p.add_argument("--full-size-cpu", action="store_true",
                   help="full-size networks, bfloat16, 8 x 8 latents on the CPU: shapes and a forward, no figures")
    p.add_argument("--device", help="default: cuda, or cpu with --tiny / --full-size-cpu")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    device = args.device or ("cpu" if args.tiny or args.full_size_cpu else "cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("bench.diffusion_speed: the full-size run needs a CUDA GPU and none is visible here "
              "(--tiny checks the path on the CPU)", file=sys.stderr)
        return 2
    if not args.photo.is_file():
        print(f"bench.diffusion_speed: {args.photo} not found (pass --photo; the default comes from ../shared/corpus)",
              file=sys.stderr)
        return 2
    if args.tiny and args.clip_frames == 16:
        args.clip_frames, args.steps = 3, min(args.steps, 2)
    if args.tiny:
        torch.set_num_threads(1)        # the tiny nets are too small to share out; 2 shared cores thrash
    if args.full_size_cpu:
        args.clip_frames, args.steps, args.seconds = 2, 1, min(args.seconds, 2 / 25)
    result = run(args.seconds, args.steps, args.clip_frames, args.motion_frames, args.guidance, args.tiny, device,
                 args.photo, small_latent=args.full_size_cpu)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
