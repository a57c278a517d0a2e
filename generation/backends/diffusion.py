"""The EMO-style diffusion backend: reference net + denoising UNet with audio
cross-attention and temporal attention (generation.backends.emo), weights from a
local folder in Hallo's layout (VERITALK_DIFFUSION_WEIGHTS), never downloaded.

Meant for the GPU worker queue (jobs.dispatch routes backend=diffusion jobs to it);
on a CPU it runs with the tiny random-weight checkpoint in tests and the bench.
Frames are generated a clip at a time (`clip_frames`, with temporal attention
inside a clip) and returned to the pipeline, which watermarks every one of them."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from ..audio import Audio, frame_count
from ..controls import Controls
from ..face import analyse_face, face_embedding
from ..framing import frame_portrait
from ..threads import torch_threads
from .base import Analysis, MotionTrackLike

WEIGHTS_ENV = "VERITALK_DIFFUSION_WEIGHTS"
# Hallo's inference defaults; a weights folder may set its own in INFERENCE_FILE
# (the tiny test checkpoint asks for 2 steps, 3-frame clips and one thread).
DEFAULTS = {"steps": 25, "clip_frames": 16, "guidance": 3.5, "threads": None}
INFERENCE_FILE = "veritalk_inference.json"
FACE_EMBEDDING_DIM = 128      # dlib's identity embedding (generation.face.face_embedding)


class FrameTrack:
    """The diffusion model makes its own motion: the track only counts frames."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def frame(self, i: int) -> dict[str, float]:
        return {"index": float(i)}


def _scheduler():
    from diffusers import DDIMScheduler  # noqa: PLC0415 - heavy (diffusers): loaded when the backend runs
    # Hallo's inference settings for its v-prediction model
    return DDIMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="linear",
                         clip_sample=False, steps_offset=1, prediction_type="v_prediction",
                         rescale_betas_zero_snr=True, timestep_spacing="trailing")


class DiffusionBackend:
    name = "diffusion"
    version = "0.1.0"

    def __init__(self, weights: str | os.PathLike | None = None, steps: int | None = None,
                 clip_frames: int | None = None, guidance: float | None = None, device: str | None = None,
                 threads: int | None = None, motion: str | None = None):

        import torch  # noqa: PLC0415 - heavy (torch): loaded when the backend runs

        from .emo.weights import load  # noqa: PLC0415 - heavy (torch): loaded when the backend runs
        root = weights or os.environ.get(WEIGHTS_ENV, "")
        settings = dict(DEFAULTS)
        if root and (Path(root) / INFERENCE_FILE).is_file():
            settings.update(json.loads((Path(root) / INFERENCE_FILE).read_text()))
        given = {"steps": steps, "clip_frames": clip_frames, "guidance": guidance, "threads": threads}
        settings.update({k: v for k, v in given.items() if v is not None})
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
        self.model = load(root, device=self.device, dtype=dtype)
        wanted = self.model.imageproj.proj.in_features
        if wanted != FACE_EMBEDDING_DIM:
            from .emo.weights import CheckpointError  # noqa: PLC0415 - heavy (torch): loaded when the backend runs
            raise CheckpointError(f"imageproj expects {wanted}-d face embeddings (Hallo's come from insightface, "
                                  f"512-d); Veritalk supplies dlib's {FACE_EMBEDDING_DIM}-d identity embeddings")
        self.dtype = dtype
        self.steps, self.clip_frames = int(settings["steps"]), int(settings["clip_frames"])
        self.guidance = float(settings["guidance"])
        self.threads = settings["threads"]    # CPU threads for torch (1 suits the tiny test model)
        self._clips: dict[int, list[np.ndarray]] = {}

    # -- analyse ----------------------------------------------------------------------
    def analyse(self, photo_rgb: np.ndarray, audio: Audio, controls: Controls) -> Analysis:
        face = analyse_face(photo_rgb)
        framed = frame_portrait(photo_rgb, face, controls.size)
        n = frame_count(audio.duration, controls.fps)
        res = self.model.resolution
        ref = cv2.resize(framed.image, (res, res), interpolation=cv2.INTER_AREA)
        lm = framed.landmarks * (res / controls.size)
        mask = np.zeros((res, res, 3), np.float32)
        x0, y0 = np.floor(lm.min(axis=0)).astype(int)
        x1, y1 = np.ceil(lm.max(axis=0)).astype(int)
        mask[max(0, y0):y1, max(0, x0):x1] = 1.0
        self._clips = {}
        with torch_threads(self.threads):
            embeds = self._audio_embeddings(audio, n)
        return Analysis(image=framed.image, landmarks=framed.landmarks, face=face, audio=audio, fps=controls.fps,
                        frames=n, extra={"reference": ref, "mask": mask, "seed": controls.seed,
                                         "identity": face_embedding(photo_rgb, face), "audio_embeds": embeds})

    def _audio_embeddings(self, audio: Audio, n: int) -> np.ndarray:
        """(n, seq_len, layers, channels): wav2vec2 hidden states of every layer, resampled
        to the video frames, in a window of seq_len frames around each frame."""
        import torch  # noqa: PLC0415 - heavy (torch): loaded when the backend runs
        m = self.model
        x = audio.mono.astype(np.float32)
        x = (x - x.mean()) / (x.std() + 1e-7)
        with torch.no_grad():
            out = m.wav2vec(torch.from_numpy(x)[None].to(self.device, self.dtype), output_hidden_states=True)
        hidden = torch.stack(out.hidden_states[1:], dim=2)[0].float()          # (T, layers, C)
        hidden = torch.nn.functional.interpolate(hidden.permute(1, 2, 0), size=n, mode="linear",
                                                 align_corners=True).permute(2, 0, 1).cpu().numpy()
        half = m.audioproj.seq_len // 2
        idx = np.clip(np.arange(n)[:, None] + np.arange(-half, half + 1)[None, :], 0, n - 1)
        return hidden[idx]

    def motion(self, analysis: Analysis, controls: Controls) -> MotionTrackLike:
        return FrameTrack(analysis.frames)

    # -- render -----------------------------------------------------------------------
    def render(self, analysis: Analysis, track: MotionTrackLike, indices: Sequence[int]) -> list[np.ndarray]:
        out = []
        for i in indices:
            clip = i // self.clip_frames
            if clip not in self._clips:
                with torch_threads(self.threads):
                    self._clips = {clip: self._generate_clip(analysis, clip, len(track))}
            frame = self._clips[clip][i - clip * self.clip_frames]
            out.append(cv2.resize(frame, (analysis.image.shape[1], analysis.image.shape[0]),
                                  interpolation=cv2.INTER_CUBIC))
        return out

    def _generate_clip(self, analysis: Analysis, clip: int, total: int) -> list[np.ndarray]:
        import torch  # noqa: PLC0415 - heavy (torch): loaded when the backend runs
        m, dev, dt = self.model, self.device, self.dtype
        start = clip * self.clip_frames
        frames = min(self.clip_frames, total - start)
        gen = torch.Generator(device="cpu").manual_seed(int(analysis.extra["seed"]) * 1_000_003 + clip)
        with torch.no_grad():
            ref = torch.from_numpy(analysis.extra["reference"]).permute(2, 0, 1)[None].to(dev, dt) / 127.5 - 1.0
            ref_latent = m.vae.encode(ref).latent_dist.mean * m.vae.config.scaling_factor
            ident = torch.from_numpy(analysis.extra["identity"])[None].to(dev, dt)
            tokens = m.imageproj(ident)                                              # (1, k, cross)
            audio = torch.from_numpy(analysis.extra["audio_embeds"][start:start + frames])[None].to(dev, dt)
            audio_tokens = m.audioproj(audio)[0]                                     # (F, tokens, dim)
            mask = torch.from_numpy(analysis.extra["mask"]).permute(2, 0, 1)[None].to(dev, dt)
            mask_feat = m.face_locator(mask).repeat(frames, 1, 1, 1)
            # the reference UNet writes its self-attention inputs once per clip
            m.bank.mode, m.bank.states = "write", {}
            m.reference_unet(ref_latent, torch.zeros(1, device=dev, dtype=torch.long), encoder_hidden_states=tokens)
            m.bank.mode = "read"
            hook = m.denoising_unet.conv_in.register_forward_hook(
                lambda mod, inp, out: out + mask_feat.repeat(out.shape[0] // mask_feat.shape[0], 1, 1, 1))
            try:
                sched = _scheduler()
                sched.set_timesteps(self.steps)
                shape = (frames, ref_latent.shape[1], *ref_latent.shape[2:])
                latents = torch.randn(shape, generator=gen).to(dev, dt) * sched.init_noise_sigma
                cfg = self.guidance > 1.0
                for t in sched.timesteps:
                    x = torch.cat([latents, latents]) if cfg else latents
                    enc = tokens.repeat(x.shape[0], 1, 1)
                    aud = torch.cat([torch.zeros_like(audio_tokens), audio_tokens]) if cfg else audio_tokens
                    noise = m.denoising_unet(sched.scale_model_input(x, t), t, encoder_hidden_states=enc,
                                             cross_attention_kwargs={"audio_tokens": aud,
                                                                     "num_frames": frames}).sample
                    if cfg:
                        uncond, cond = noise.chunk(2)
                        noise = uncond + self.guidance * (cond - uncond)
                    latents = sched.step(noise, t, latents).prev_sample
                images = m.vae.decode(latents / m.vae.config.scaling_factor).sample
            finally:
                hook.remove()
                m.bank.mode, m.bank.states = "off", {}
        images = ((images.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        return [np.ascontiguousarray(f) for f in images]
