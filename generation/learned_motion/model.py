"""A small diffusion transformer over windows of motion parameters (VASA-1's idea
at small scale): per-frame tokens carry the noisy motion, the audio features and
the frames already known from the previous window; the diffusion timestep and the
control attributes modulate every block (adaLN-Zero, as in DiT). The control
attributes are dropped at random in training so that sampling can use
classifier-free guidance."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .features import FEATURE_DIM

N_PARAMS = 7          # jaw, smile, brow, blink, yaw, pitch, roll
N_ATTRS = 5           # smile offset, brow offset, yaw offset, pitch offset, head-motion intensity


@dataclass(frozen=True)
class DiTConfig:
    window: int = 50          # frames per window (2 s at 25 fps)
    overlap: int = 10         # frames carried over from the previous window
    width: int = 128
    depth: int = 4
    heads: int = 4
    audio_dim: int = FEATURE_DIM
    dropout: float = 0.1
    train_timesteps: int = 1000

    def as_dict(self) -> dict:
        return asdict(self)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Block(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.attn = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(4 * width, width))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))
        nn.init.zeros_(self.ada[1].weight)
        nn.init.zeros_(self.ada[1].bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        s1, b1, g1, s2, b2, g2 = self.ada(c)[:, None].chunk(6, dim=-1)
        h = self.norm1(x) * (1 + s1) + b1
        x = x + g1 * self.attn(h, h, h, need_weights=False)[0]
        h = self.norm2(x) * (1 + s2) + b2
        return x + g2 * self.mlp(h)


class MotionDiT(nn.Module):
    """Predicts the clean motion window (x0) from a noisy one."""

    def __init__(self, config: DiTConfig = DiTConfig()):
        super().__init__()
        self.config = cfg = config
        w = cfg.width
        self.motion_in = nn.Linear(2 * N_PARAMS + 1, w)     # noisy motion, known motion, known mask
        self.audio_in = nn.Sequential(nn.Linear(cfg.audio_dim, w), nn.GELU(), nn.Linear(w, w))
        self.audio_conv = nn.Conv1d(w, w, kernel_size=5, padding=2)   # local audio context (+-2 frames)
        self.pos = nn.Parameter(torch.zeros(1, cfg.window, w))
        nn.init.normal_(self.pos, std=0.02)
        self.time_mlp = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.attr_mlp = nn.Sequential(nn.Linear(N_ATTRS, w), nn.SiLU(), nn.Linear(w, w))
        self.null_attr = nn.Parameter(torch.zeros(1, w))     # "no control given" for guidance
        self.blocks = nn.ModuleList(Block(w, cfg.heads, cfg.dropout) for _ in range(cfg.depth))
        self.norm_out = nn.LayerNorm(w, elementwise_affine=False, eps=1e-6)
        self.ada_out = nn.Sequential(nn.SiLU(), nn.Linear(w, 2 * w))
        self.out = nn.Linear(w, N_PARAMS)
        nn.init.zeros_(self.ada_out[1].weight)
        nn.init.zeros_(self.ada_out[1].bias)
        # dataset statistics of the motion parameters (normalisation), saved with the weights
        self.register_buffer("motion_mean", torch.zeros(N_PARAMS))
        self.register_buffer("motion_std", torch.ones(N_PARAMS))
        self.register_buffer("attr_mean", torch.zeros(N_ATTRS))
        self.register_buffer("attr_std", torch.ones(N_ATTRS))

    def forward(self, noisy: torch.Tensor, t: torch.Tensor, audio: torch.Tensor, known: torch.Tensor,
                known_mask: torch.Tensor, attrs: torch.Tensor, attr_keep: torch.Tensor) -> torch.Tensor:
        """noisy, known: (B, W, 7) normalised; audio: (B, W, A); known_mask: (B, W, 1);
        attrs: (B, 5) normalised; attr_keep: (B,) 1 = use attrs, 0 = unconditional."""
        a = self.audio_in(audio)
        a = a + self.audio_conv(a.transpose(1, 2)).transpose(1, 2)
        x = (self.motion_in(torch.cat([noisy, known * known_mask, known_mask], dim=-1)) + a
             + self.pos[:, :noisy.shape[1]])
        keep = attr_keep.float()[:, None]
        c = self.time_mlp(timestep_embedding(t, self.config.width))
        c = c + keep * self.attr_mlp(attrs) + (1 - keep) * self.null_attr
        for blk in self.blocks:
            x = blk(x, c)
        shift, scale = self.ada_out(c)[:, None].chunk(2, dim=-1)
        return self.out(self.norm_out(x) * (1 + scale) + shift)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
