"""Hallo's motion modules (AnimateDiff's "Vanilla" temporal transformer): attention
across the frames of a clip at every spatial position, with a learned-free sinusoidal
position table (`pos_encoder.pe`) that Hallo saves with the weights, so it is a
persistent buffer here too. Frames are folded into the batch: (batch * frames, C, H, W)."""
from __future__ import annotations

import math

import torch
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from torch import nn


class PositionalEncoding(nn.Module):
    """Sinusoidal positions added to the frame tokens before temporal attention."""

    def __init__(self, dim: int, max_len: int):
        super().__init__()
        position = torch.arange(max_len, dtype=torch.float32)[:, None]
        freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
        pe = torch.zeros(1, max_len, dim)
        pe[0, :, 0::2] = torch.sin(position * freq)
        pe[0, :, 1::2] = torch.cos(position * freq)
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.pe.shape[1]:
            raise ValueError(f"temporal attention over {x.shape[1]} frames; the position table holds "
                             f"{self.pe.shape[1]}")
        return x + self.pe[:, : x.shape[1]].to(x.dtype)


class TemporalAttention(Attention):
    """Self-attention along time: each spatial position attends over the clip's frames."""

    def __init__(self, dim: int, heads: int, max_len: int):
        super().__init__(query_dim=dim, heads=heads, dim_head=dim // heads, bias=False)
        self.pos_encoder = PositionalEncoding(dim, max_len)

    def forward(self, hidden_states: torch.Tensor, frames: int = 1, **_) -> torch.Tensor:
        bf, tokens, c = hidden_states.shape
        x = hidden_states.reshape(bf // frames, frames, tokens, c).transpose(1, 2).reshape(-1, frames, c)
        x = super().forward(self.pos_encoder(x))
        return x.reshape(bf // frames, tokens, frames, c).transpose(1, 2).reshape(bf, tokens, c)


class TemporalTransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, max_len: int, attention_blocks: int = 2):
        super().__init__()
        self.attention_blocks = nn.ModuleList(TemporalAttention(dim, heads, max_len) for _ in range(attention_blocks))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(attention_blocks))
        self.ff = FeedForward(dim, activation_fn="geglu")
        self.ff_norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        for attention, norm in zip(self.attention_blocks, self.norms):
            x = attention(norm(x), frames=frames) + x
        return self.ff(self.ff_norm(x)) + x


class TemporalTransformer(nn.Module):
    def __init__(self, channels: int, heads: int, max_len: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels)
        self.transformer_blocks = nn.ModuleList([TemporalTransformerBlock(channels, heads, max_len)])
        self.proj_out = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        n, c, h, w = x.shape
        t = self.proj_in(self.norm(x).permute(0, 2, 3, 1).reshape(n, h * w, c))
        for block in self.transformer_blocks:
            t = block(t, frames)
        return self.proj_out(t).reshape(n, h, w, c).permute(0, 3, 1, 2) + x


class MotionModule(nn.Module):
    """One of the denoising UNet's 21 `motion_modules`."""

    def __init__(self, channels: int, heads: int = 8, max_len: int = 32, groups: int = 32):
        super().__init__()
        self.temporal_transformer = TemporalTransformer(channels, heads, max_len, groups)

    def forward(self, x: torch.Tensor, frames: int, prefix: torch.Tensor | None = None) -> torch.Tensor:
        """x: (batch * frames, C, H, W). `prefix` (batch, n, C, H, W): features of the
        previous clip's last frames, put before the clip in time and dropped after."""
        if prefix is None:
            return self.temporal_transformer(x, frames)
        b, n = prefix.shape[:2]
        joined = torch.cat([prefix.to(x.dtype), x.reshape(b, frames, *x.shape[1:])], dim=1)
        out = self.temporal_transformer(joined.reshape(b * (n + frames), *x.shape[1:]), n + frames)
        return out.reshape(b, n + frames, *x.shape[1:])[:, n:].reshape(x.shape)
