"""The parts of the EMO-style model. The three small nets keep the parameter names
of Hallo's (face_locator, imageproj, audioproj) so their tensors load as they are;
the UNets are diffusers' UNet2DConditionModel, extended through attention
processors: reference attention on every self-attention (attn1), and audio
cross-attention plus temporal attention after every cross-attention (attn2)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class FaceLocator(nn.Module):
    """Face-region mask -> features added after the denoising UNet's conv_in."""

    def __init__(self, conditioning_embedding_channels: int, conditioning_channels: int = 3,
                 block_out_channels: tuple[int, ...] = (16, 32, 64, 128)):
        super().__init__()
        self.conv_in = nn.Conv2d(conditioning_channels, block_out_channels[0], 3, padding=1)
        self.blocks = nn.ModuleList()
        for cin, cout in zip(block_out_channels[:-1], block_out_channels[1:]):
            self.blocks.append(nn.Conv2d(cin, cin, 3, padding=1))
            self.blocks.append(nn.Conv2d(cin, cout, 3, padding=1, stride=2))
        self.conv_out = nn.Conv2d(block_out_channels[-1], conditioning_embedding_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, mask: torch.Tensor) -> torch.Tensor:
        x = F.silu(self.conv_in(mask))
        for block in self.blocks:
            x = F.silu(block(x))
        return self.conv_out(x)


class ImageProjModel(nn.Module):
    """Face identity embedding -> a few cross-attention tokens."""

    def __init__(self, cross_attention_dim: int, clip_embeddings_dim: int, clip_extra_context_tokens: int = 4):
        super().__init__()
        self.cross_attention_dim = cross_attention_dim
        self.clip_extra_context_tokens = clip_extra_context_tokens
        self.proj = nn.Linear(clip_embeddings_dim, clip_extra_context_tokens * cross_attention_dim)
        self.norm = nn.LayerNorm(cross_attention_dim)

    def forward(self, embeds: torch.Tensor) -> torch.Tensor:
        tokens = self.proj(embeds).reshape(-1, self.clip_extra_context_tokens, self.cross_attention_dim)
        return self.norm(tokens)


class AudioProjModel(nn.Module):
    """A window of wav2vec2 hidden states (all layers) per frame -> audio tokens per frame."""

    def __init__(self, seq_len: int = 5, blocks: int = 12, channels: int = 768, intermediate_dim: int = 512,
                 output_dim: int = 768, context_tokens: int = 32):
        super().__init__()
        self.seq_len, self.blocks, self.channels = seq_len, blocks, channels
        self.context_tokens, self.output_dim = context_tokens, output_dim
        self.proj1 = nn.Linear(seq_len * blocks * channels, intermediate_dim)
        self.proj2 = nn.Linear(intermediate_dim, intermediate_dim)
        self.proj3 = nn.Linear(intermediate_dim, context_tokens * output_dim)
        self.norm = nn.LayerNorm(output_dim)

    def forward(self, audio_embeds: torch.Tensor) -> torch.Tensor:
        """(B, F, seq_len, blocks, channels) -> (B, F, context_tokens, output_dim)."""
        b, f = audio_embeds.shape[:2]
        x = audio_embeds.reshape(b * f, -1)
        x = torch.relu(self.proj1(x))
        x = torch.relu(self.proj2(x))
        x = self.norm(self.proj3(x).reshape(b * f, self.context_tokens, self.output_dim))
        return x.reshape(b, f, self.context_tokens, self.output_dim)


def _attend(attn, query_states, context):
    """Scaled dot-product attention through `attn`'s own projections."""
    q = attn.to_q(query_states)
    k, v = attn.to_k(context), attn.to_v(context)
    heads = attn.heads
    b, n, c = q.shape
    q = q.view(b, -1, heads, c // heads).transpose(1, 2)
    k = k.view(b, -1, heads, c // heads).transpose(1, 2)
    v = v.view(b, -1, heads, c // heads).transpose(1, 2)
    out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c)
    return attn.to_out[1](attn.to_out[0](out))


class ReferenceBank:
    """Self-attention inputs of the reference UNet, keyed by layer, read by the denoising UNet."""

    def __init__(self):
        self.states: dict[str, torch.Tensor] = {}
        self.mode = "off"     # "write" while the reference UNet runs, "read" while denoising


class ReferenceAttnProcessor:
    """attn1: in the reference UNet, remember the input; in the denoising UNet, let every
    frame's tokens also attend to the reference image's tokens of the same layer."""

    def __init__(self, bank: ReferenceBank, name: str):
        self.bank, self.name = bank, name

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None,
                 audio_tokens=None, num_frames: int = 1):
        context = hidden_states
        if self.bank.mode == "write":
            self.bank.states[self.name] = hidden_states.detach()
        elif self.bank.mode == "read" and self.name in self.bank.states:
            ref = self.bank.states[self.name]
            ref = ref.repeat_interleave(hidden_states.shape[0] // ref.shape[0], dim=0)
            context = torch.cat([hidden_states, ref], dim=1)
        return _attend(attn, hidden_states, context)


def _sinusoid(n: int, dim: int, device) -> torch.Tensor:
    pos = torch.arange(n, device=device, dtype=torch.float32)[:, None]
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(0, dim, 2, device=device, dtype=torch.float32) / dim)
    pe = torch.zeros(n, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freqs)
    pe[:, 1::2] = torch.cos(pos * freqs[: dim // 2])
    return pe


class AudioTemporalProcessor(nn.Module):
    """attn2: the usual cross-attention to the identity tokens, plus a decoupled
    cross-attention to this frame's audio tokens, plus attention across the clip's
    frames at each position. Both additions start at zero (zero-initialised outputs)."""

    def __init__(self, dim: int, audio_dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.audio_norm = nn.LayerNorm(dim)
        self.audio_to_q = nn.Linear(dim, dim, bias=False)
        self.audio_to_k = nn.Linear(audio_dim, dim, bias=False)
        self.audio_to_v = nn.Linear(audio_dim, dim, bias=False)
        self.audio_to_out = nn.Linear(dim, dim)
        self.temporal_norm = nn.LayerNorm(dim)
        self.temporal_qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.temporal_out = nn.Linear(dim, dim)
        for lin in (self.audio_to_out, self.temporal_out):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def _mha(self, q, k, v):
        b, n, c = q.shape
        h = self.heads
        q, k, v = (t.reshape(b, -1, h, c // h).transpose(1, 2) for t in (q, k, v))
        return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c)

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None,
                 audio_tokens=None, num_frames: int = 1):
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        out = _attend(attn, hidden_states, context)
        if audio_tokens is not None:
            a = self.audio_norm(hidden_states)
            out = out + self.audio_to_out(self._mha(self.audio_to_q(a), self.audio_to_k(audio_tokens),
                                                    self.audio_to_v(audio_tokens)))
        if num_frames > 1:
            x = hidden_states + out
            bf, n, c = x.shape
            t = x.reshape(bf // num_frames, num_frames, n, c).permute(0, 2, 1, 3).reshape(-1, num_frames, c)
            t = self.temporal_norm(t) + _sinusoid(num_frames, c, t.device)[None]
            q, k, v = self.temporal_qkv(t).chunk(3, dim=-1)
            t = self.temporal_out(self._mha(q, k, v))
            t = t.reshape(bf // num_frames, n, num_frames, c).permute(0, 2, 1, 3).reshape(bf, n, c)
            out = out + t
        return out


def install_processors(reference_unet, denoising_unet, bank: ReferenceBank, audio_dim: int) -> None:
    """Reference attention on both UNets' attn1; audio + temporal on the denoising UNet's attn2."""
    ref_procs, den_procs = {}, {}
    for name in reference_unet.attn_processors:
        ref_procs[name] = (ReferenceAttnProcessor(bank, name) if ".attn1." in name
                           else reference_unet.attn_processors[name])
    modules = dict(denoising_unet.named_modules())
    for name in denoising_unet.attn_processors:
        if ".attn1." in name:
            den_procs[name] = ReferenceAttnProcessor(bank, name)
        else:
            attn = modules[name.rsplit(".processor", 1)[0]]
            dim = attn.to_q.out_features
            den_procs[name] = AudioTemporalProcessor(dim, audio_dim, attn.heads)
    reference_unet.set_attn_processor(ref_procs)
    denoising_unet.set_attn_processor(den_procs)
