"""Hallo's audio modules: after every spatial cross-attention of the denoising UNet,
the frame's tokens attend to that frame's audio tokens three times, and each result
is weighted by a region mask (whole image, face without lips, lips) at this
resolution and passed through a zero-initialised 1x1 conv before it is added back."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from torch import nn

REGIONS = ("full", "face", "lip")


@dataclass
class RegionMasks:
    """Per level (0 = the latent resolution, 1 = half of it, ...): (N, H*W) weights in
    0..1 for each region, one row per (batch * frames) entry."""
    full: list[torch.Tensor]
    face: list[torch.Tensor]
    lip: list[torch.Tensor]


class AudioTransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, audio_dim: int):
        super().__init__()
        self.zero_conv_full = nn.Conv2d(dim, dim, 1)
        self.zero_conv_face = nn.Conv2d(dim, dim, 1)
        self.zero_conv_lip = nn.Conv2d(dim, dim, 1)
        self.attn1 = Attention(query_dim=dim, heads=heads, dim_head=dim // heads, bias=False)
        self.norm1 = nn.LayerNorm(dim)
        self.attn2_0 = Attention(query_dim=dim, cross_attention_dim=audio_dim, heads=heads, dim_head=dim // heads,
                                 bias=False)
        self.attn2_1 = Attention(query_dim=dim, cross_attention_dim=audio_dim, heads=heads, dim_head=dim // heads,
                                 bias=False)
        self.attn2_2 = Attention(query_dim=dim, cross_attention_dim=audio_dim, heads=heads, dim_head=dim // heads,
                                 bias=False)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, activation_fn="geglu")
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, size: tuple[int, int], audio: torch.Tensor, masks: RegionMasks, level: int,
                scale: tuple[float, float, float] | None) -> torch.Tensor:
        x = self.attn1(self.norm1(x)) + x
        normed = self.norm2(x)
        n, _, c = x.shape
        weights = scale or (1.0, 1.0, 1.0)
        for region, attn, conv, w in zip(REGIONS, (self.attn2_0, self.attn2_1, self.attn2_2),
                                         (self.zero_conv_full, self.zero_conv_face, self.zero_conv_lip), weights):
            mask = getattr(masks, region)[level].to(x.dtype)
            heard = attn(normed, encoder_hidden_states=audio) * mask[:, :, None]
            heard = conv(heard.transpose(1, 2).reshape(n, c, *size)).flatten(2).transpose(1, 2)
            x = x + w * heard
        return self.ff(self.norm3(x)) + x


class AudioModule(nn.Module):
    """One of the denoising UNet's 16 `audio_modules`: channels in and out of the block,
    `dim` inside (Hallo sizes it from the block's input channels)."""

    def __init__(self, channels: int, dim: int, heads: int, audio_dim: int, groups: int, level: int):
        super().__init__()
        self.level = level
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, dim, 1)
        self.transformer_blocks = nn.ModuleList([AudioTransformerBlock(dim, heads, audio_dim)])
        self.proj_out = nn.Conv2d(dim, channels, 1)

    def forward(self, x: torch.Tensor, audio: torch.Tensor, masks: RegionMasks,
                scale: tuple[float, float, float] | None = None) -> torch.Tensor:
        n, _, h, w = x.shape
        t = self.proj_in(self.norm(x))
        dim = t.shape[1]
        t = t.permute(0, 2, 3, 1).reshape(n, h * w, dim)
        for block in self.transformer_blocks:
            t = block(t, (h, w), audio, masks, self.level, scale)
        return self.proj_out(t.reshape(n, h, w, dim).permute(0, 3, 1, 2)) + x
