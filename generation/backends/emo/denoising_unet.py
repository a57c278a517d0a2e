"""Hallo's denoising UNet, laid out so that its `net.pth` part loads key for key.

Stable Diffusion 1.5's spatial layers (diffusers' ResnetBlock2D, Transformer2DModel,
Down/Upsample2D, timestep embedding) with Hallo's additions in every block: an audio
module after each spatial cross-attention and a motion module after each layer. Hallo
writes this as a 3-D UNet over (batch, C, frames, H, W); its "inflated" convs and group
norms act frame by frame, so here the frames are folded into the batch and only the
motion modules look across them. Inside a layer the order is Hallo's: resnet, spatial
attention (face-identity tokens), audio module, motion module."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.resnet import Downsample2D, ResnetBlock2D, Upsample2D
from diffusers.models.transformers.transformer_2d import Transformer2DModel
from torch import nn

from .audio_attention import AudioModule, RegionMasks
from .temporal import MotionModule

MOTION_HEADS = 8          # Hallo's configs/inference/default.yaml: motion_module_kwargs
MOTION_MAX_FRAMES = 32    # temporal_position_encoding_max_len


@dataclass
class Conditioning:
    """What every block needs besides the latents (rows = batch * frames)."""
    frames: int
    tokens: torch.Tensor                    # (N, k, cross): face-identity tokens for the spatial cross-attention
    audio: torch.Tensor                     # (N, m, audio_dim): audio tokens per frame
    masks: RegionMasks
    motion_scale: tuple[float, float, float] | None = None    # (pose/full, face, lip); Hallo uses it in the mid block
    motion_prefix: torch.Tensor | None = None                 # (batch, n, C, h, w) for the mid block's motion module


def _resnet(cin: int, cout: int, cfg: dict, scale: float = 1.0) -> ResnetBlock2D:
    return ResnetBlock2D(in_channels=cin, out_channels=cout, temb_channels=cfg["block_out_channels"][0] * 4,
                         eps=cfg["norm_eps"], groups=cfg["norm_num_groups"], non_linearity=cfg["act_fn"],
                         output_scale_factor=scale)


def _spatial(channels: int, cfg: dict) -> Transformer2DModel:
    heads = _heads(cfg)
    return Transformer2DModel(heads, channels // heads, in_channels=channels, num_layers=1,
                              cross_attention_dim=cfg["cross_attention_dim"], norm_num_groups=cfg["norm_num_groups"])


def _heads(cfg: dict) -> int:
    heads = cfg.get("attention_head_dim", 8)    # SD 1.5's config names the head count this way
    if not isinstance(heads, int):
        raise TypeError("a UNet config with a head count per block is not Hallo's layout")
    return heads


def _audio(channels: int, inner: int, cfg: dict, level: int) -> AudioModule:
    heads = _heads(cfg)
    return AudioModule(channels, inner // heads * heads, heads, cfg["cross_attention_dim"], cfg["norm_num_groups"],
                       level)


def _motion(channels: int, cfg: dict) -> MotionModule:
    return MotionModule(channels, MOTION_HEADS, MOTION_MAX_FRAMES, cfg["norm_num_groups"])


class DownStage(nn.Module):
    def __init__(self, cin: int, cout: int, cfg: dict, level: int, attention: bool, downsample: bool):
        super().__init__()
        layers = cfg["layers_per_block"]
        ins = [cin] + [cout] * (layers - 1)
        if attention:
            self.attentions = nn.ModuleList(_spatial(cout, cfg) for _ in range(layers))
        self.resnets = nn.ModuleList(_resnet(i, cout, cfg) for i in ins)
        if attention:
            self.audio_modules = nn.ModuleList(_audio(cout, i, cfg, level) for i in ins)
        self.motion_modules = nn.ModuleList(_motion(cout, cfg) for _ in range(layers))
        if downsample:
            self.downsamplers = nn.ModuleList([Downsample2D(cout, use_conv=True, out_channels=cout,
                                                            padding=cfg.get("downsample_padding", 1), name="op")])
        self.has_attention, self.has_sampler = attention, downsample

    def forward(self, x, emb, cond: Conditioning):
        skips = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, emb)
            if self.has_attention:
                x = self.attentions[i](x, encoder_hidden_states=cond.tokens, return_dict=False)[0]
                x = self.audio_modules[i](x, cond.audio, cond.masks)
            x = self.motion_modules[i](x, cond.frames)
            skips.append(x)
        if self.has_sampler:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class MidStage(nn.Module):
    def __init__(self, channels: int, cfg: dict, level: int):
        super().__init__()
        self.attentions = nn.ModuleList([_spatial(channels, cfg)])
        self.resnets = nn.ModuleList(_resnet(channels, channels, cfg, cfg.get("mid_block_scale_factor", 1.0))
                                     for _ in range(2))
        self.audio_modules = nn.ModuleList([_audio(channels, channels, cfg, level)])
        self.motion_modules = nn.ModuleList([_motion(channels, cfg)])

    def forward(self, x, emb, cond: Conditioning):
        x = self.resnets[0](x, emb)
        x = self.attentions[0](x, encoder_hidden_states=cond.tokens, return_dict=False)[0]
        x = self.audio_modules[0](x, cond.audio, cond.masks, cond.motion_scale)
        x = self.motion_modules[0](x, cond.frames, cond.motion_prefix)
        return self.resnets[1](x, emb)


class UpStage(nn.Module):
    def __init__(self, cin: int, prev: int, cout: int, cfg: dict, level: int, attention: bool, upsample: bool):
        super().__init__()
        layers = cfg["layers_per_block"] + 1
        ins = [(prev if i == 0 else cout) + (cin if i == layers - 1 else cout) for i in range(layers)]
        if attention:
            self.attentions = nn.ModuleList(_spatial(cout, cfg) for _ in range(layers))
        self.resnets = nn.ModuleList(_resnet(i, cout, cfg) for i in ins)
        if attention:
            self.audio_modules = nn.ModuleList(_audio(cout, cin, cfg, level) for _ in range(layers))
        self.motion_modules = nn.ModuleList(_motion(cout, cfg) for _ in range(layers))
        if upsample:
            self.upsamplers = nn.ModuleList([Upsample2D(cout, use_conv=True, out_channels=cout)])
        self.has_attention, self.has_sampler = attention, upsample

    def forward(self, x, skips, emb, cond: Conditioning, size=None):
        for i, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), emb)
            if self.has_attention:
                x = self.attentions[i](x, encoder_hidden_states=cond.tokens, return_dict=False)[0]
                x = self.audio_modules[i](x, cond.audio, cond.masks)
            x = self.motion_modules[i](x, cond.frames)
        if self.has_sampler:
            x = self.upsamplers[0](x, output_size=size)
        return x


class DenoisingUNet(nn.Module):
    """Hallo's `denoising_unet` for a Stable-Diffusion-1.5-shaped UNet config."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.config = dict(cfg)
        chans = list(cfg["block_out_channels"])
        down = list(cfg["down_block_types"])
        if len(chans) != 4 or [t.startswith("CrossAttn") for t in down] != [True, True, True, False]:
            raise ValueError("Hallo's denoising UNet needs SD 1.5's four levels: three cross-attention "
                             "down blocks and a plain one")
        self.conv_in = nn.Conv2d(cfg["in_channels"], chans[0], 3, padding=1)
        self.time_proj = Timesteps(chans[0], cfg.get("flip_sin_to_cos", True), cfg.get("freq_shift", 0))
        self.time_embedding = TimestepEmbedding(chans[0], chans[0] * 4)
        self.down_blocks = nn.ModuleList()
        prev = chans[0]
        for i, cout in enumerate(chans):
            self.down_blocks.append(DownStage(prev, cout, cfg, level=i, attention=i < 3, downsample=i < 3))
            prev = cout
        self.up_blocks = nn.ModuleList()
        rev = chans[::-1]
        prev = rev[0]
        for i, cout in enumerate(rev):
            cin = rev[min(i + 1, 3)]
            self.up_blocks.append(UpStage(cin, prev, cout, cfg, level=3 - i, attention=i > 0, upsample=i < 3))
            prev = cout
        self.mid_block = MidStage(chans[-1], cfg, level=3)
        self.conv_norm_out = nn.GroupNorm(cfg["norm_num_groups"], chans[0], eps=cfg["norm_eps"])
        self.conv_out = nn.Conv2d(chans[0], cfg["out_channels"], 3, padding=1)

    @property
    def dtype(self) -> torch.dtype:
        return self.conv_in.weight.dtype

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, cond: Conditioning,
                mask_features: torch.Tensor | None = None) -> torch.Tensor:
        """sample (batch * frames, C, h, w) -> the model's prediction, same shape."""
        t = torch.as_tensor(timestep, device=sample.device).reshape(-1)[:1].expand(sample.shape[0])
        emb = self.time_embedding(self.time_proj(t).to(self.dtype))
        x = self.conv_in(sample)
        if mask_features is not None:
            x = x + mask_features
        skips = [x]
        for block in self.down_blocks:
            x, more = block(x, emb, cond)
            skips.extend(more)
        x = self.mid_block(x, emb, cond)
        for i, block in enumerate(self.up_blocks):
            size = skips[-len(block.resnets) - 1].shape[2:] if i < len(self.up_blocks) - 1 else None
            x = block(x, skips[-len(block.resnets):], emb, cond, size)
            del skips[-len(block.resnets):]
        return self.conv_out(F.silu(self.conv_norm_out(x)))
