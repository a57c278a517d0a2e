"""The five parts of Hallo's `net.pth` (its scripts/inference.py `Net`), built from a
Stable-Diffusion-1.5-shaped UNet config, in the order and with the names Hallo saves.

Hallo builds its reference UNet from SD 1.5 without the output norm and conv (it only
runs for the self-attention inputs it leaves behind), so this one has none either."""
from __future__ import annotations

import torch
from diffusers import UNet2DConditionModel
from torch import nn

from .denoising_unet import DenoisingUNet
from .nets import AudioProjModel, FaceLocator, ImageProjModel

PARTS = ("reference_unet", "denoising_unet", "face_locator", "imageproj", "audioproj")

# stable-diffusion-v1-5/unet/config.json, the config Hallo builds both UNets from
SD15_UNET = dict(sample_size=64, in_channels=4, out_channels=4, block_out_channels=[320, 640, 1280, 1280],
                 layers_per_block=2, cross_attention_dim=768, attention_head_dim=8,
                 down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
                 up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3, act_fn="silu", norm_num_groups=32,
                 norm_eps=1e-5, flip_sin_to_cos=True, freq_shift=0, downsample_padding=1, mid_block_scale_factor=1)
# Hallo's scripts/inference.py sizes for the small nets
HALLO_SMALL = dict(face_embedding=512, face_tokens=4, audio_window=5, audio_layers=12, audio_channels=768,
                   audio_hidden=512, audio_tokens=32)


def reference_unet(cfg: dict) -> UNet2DConditionModel:
    unet = UNet2DConditionModel.from_config(cfg)
    unet.conv_norm_out, unet.conv_act, unet.conv_out = None, None, nn.Identity()
    return unet


class HalloNet(nn.Module):
    """reference_unet, denoising_unet, face_locator, imageproj, audioproj: `net.pth`'s parts."""

    def __init__(self, unet_cfg: dict, *, face_embedding: int = 512, face_tokens: int = 4, audio_window: int = 5,
                 audio_layers: int = 12, audio_channels: int = 768, audio_hidden: int = 512, audio_tokens: int = 32,
                 locator_channels: tuple[int, ...] = (16, 32, 64, 128)):
        super().__init__()
        cfg = {k: v for k, v in dict(unet_cfg).items() if not k.startswith("_")}
        cross = cfg["cross_attention_dim"]
        self.reference_unet = reference_unet(cfg)
        self.denoising_unet = DenoisingUNet(cfg)
        self.face_locator = FaceLocator(cfg["block_out_channels"][0], 3, locator_channels)
        self.imageproj = ImageProjModel(cross_attention_dim=cross, clip_embeddings_dim=face_embedding,
                                        clip_extra_context_tokens=face_tokens)
        self.audioproj = AudioProjModel(seq_len=audio_window, blocks=audio_layers, channels=audio_channels,
                                        intermediate_dim=audio_hidden, output_dim=cross, context_tokens=audio_tokens)


def build(unet_cfg: dict | None = None, device: str | torch.device = "meta", **small) -> HalloNet:
    """The network with uninitialised (meta) or random weights; `load` fills it from net.pth."""
    with torch.device(device):
        return HalloNet(unet_cfg or SD15_UNET, **(small or HALLO_SMALL))
