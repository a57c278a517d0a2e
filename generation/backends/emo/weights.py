"""Hallo's checkpoint layout, read from a local folder (nothing is downloaded):

    <root>/hallo/net.pth                           one state dict: reference_unet.*, denoising_unet.*,
                                                   face_locator.*, imageproj.*, audioproj.*
    <root>/stable-diffusion-v1-5/unet/             config.json (+ weights) of the SD 1.5 UNet
    <root>/sd-vae-ft-mse/                          AutoencoderKL: config.json + weights
    <root>/wav2vec/wav2vec2-base-960h/             Wav2Vec2Model: config.json + weights

net.pth is read with torch.load(weights_only=True): tensors only, never pickled
objects. The small nets are sized from the tensors' shapes, so a checkpoint of
another size (the tiny test one) loads through the same code.

`write_tiny_checkpoint` writes a random-weight checkpoint of this layout with tiny
dimensions: the CPU test and `bench.generation --tiny` run the whole path with it."""
from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

from .nets import AudioProjModel, FaceLocator, ImageProjModel, ReferenceBank, install_processors

NET = Path("hallo") / "net.pth"
UNET = Path("stable-diffusion-v1-5") / "unet"
VAE = Path("sd-vae-ft-mse")
WAV2VEC = Path("wav2vec") / "wav2vec2-base-960h"
PARTS = ("reference_unet", "denoising_unet", "face_locator", "imageproj", "audioproj")


class CheckpointError(ValueError):
    """The weights folder does not hold a usable checkpoint; the message says what is wrong."""


@dataclass
class EmoModel:
    reference_unet: torch.nn.Module
    denoising_unet: torch.nn.Module
    face_locator: FaceLocator
    imageproj: ImageProjModel
    audioproj: AudioProjModel
    vae: torch.nn.Module
    wav2vec: torch.nn.Module
    bank: ReferenceBank
    root: Path

    @property
    def vae_scale(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def resolution(self) -> int:
        return int(self.denoising_unet.config.sample_size) * self.vae_scale


def missing_parts(root: Path) -> list[str]:
    need = [NET, UNET / "config.json", VAE / "config.json", WAV2VEC / "config.json"]
    return [str(p) for p in need if not (root / p).is_file()]


def _split(state: dict) -> dict[str, dict]:
    parts = {p: {} for p in PARTS}
    stray = []
    for key, value in state.items():
        head, _, rest = key.partition(".")
        if head in parts:
            parts[head][rest] = value
        else:
            stray.append(key)
    empty = [p for p, d in parts.items() if not d]
    if empty or stray:
        raise CheckpointError(f"net.pth must hold only the parts {', '.join(PARTS)}; "
                              f"missing: {', '.join(empty) or 'none'}; unexpected keys: {stray[:3]}")
    return parts


def _strict(module: torch.nn.Module, state: dict, part: str) -> None:
    result = module.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        hallo_temporal = [k for k in result.unexpected_keys if ".motion_modules." in k or ".audio_modules." in k]
        hint = (f" ({len(hallo_temporal)} of them are Hallo's motion/audio modules, which this backend "
                "does not map onto its own temporal and audio attention)") if hallo_temporal else ""
        raise CheckpointError(f"net.pth part {part!r} does not match the model: {len(result.missing_keys)} missing "
                              f"(e.g. {result.missing_keys[:2]}), {len(result.unexpected_keys)} unexpected "
                              f"(e.g. {result.unexpected_keys[:2]}){hint}")


def _face_locator_from(state: dict) -> FaceLocator:
    chans = [state["conv_in.weight"].shape[0]]
    i = 1
    while f"blocks.{i}.weight" in state:
        chans.append(state[f"blocks.{i}.weight"].shape[0])
        i += 2
    return FaceLocator(conditioning_embedding_channels=state["conv_out.weight"].shape[0],
                       conditioning_channels=state["conv_in.weight"].shape[1], block_out_channels=tuple(chans))


def _imageproj_from(state: dict) -> ImageProjModel:
    cross = state["norm.weight"].shape[0]
    out, emb = state["proj.weight"].shape
    return ImageProjModel(cross_attention_dim=cross, clip_embeddings_dim=emb, clip_extra_context_tokens=out // cross)


def _audioproj_from(state: dict, blocks: int, channels: int) -> AudioProjModel:
    inter, inp = state["proj1.weight"].shape
    out_dim = state["norm.weight"].shape[0]
    if inp % (blocks * channels):
        raise CheckpointError(f"audioproj expects {inp} inputs, not a multiple of wav2vec2's "
                              f"{blocks} layers x {channels} channels")
    return AudioProjModel(seq_len=inp // (blocks * channels), blocks=blocks, channels=channels,
                          intermediate_dim=inter, output_dim=out_dim,
                          context_tokens=state["proj3.weight"].shape[0] // out_dim)


def load(root: str | Path, device: str = "cpu", dtype: torch.dtype = torch.float32) -> EmoModel:
    """Build and load the model from a folder in Hallo's layout."""
    from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: PLC0415 - heavy (diffusers, transformers): only to build or load weights
    from transformers import Wav2Vec2Model  # noqa: PLC0415 - heavy (diffusers, transformers): only to build or load weights
    root = Path(root)
    if not str(root) or not root.is_dir():
        raise CheckpointError(f"diffusion weights folder {str(root)!r} not found; set VERITALK_DIFFUSION_WEIGHTS "
                              "to a folder in Hallo's layout (hallo/net.pth, stable-diffusion-v1-5/unet, "
                              "sd-vae-ft-mse, wav2vec/wav2vec2-base-960h)")
    missing = missing_parts(root)
    if missing:
        raise CheckpointError(f"diffusion weights folder {root} lacks: {', '.join(missing)}")
    try:
        state = torch.load(root / NET, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"{root / NET} must hold tensors only (it is read with weights_only=True): "
                              f"{str(exc).splitlines()[0]}") from exc
    parts = _split(state)
    vae = AutoencoderKL.from_pretrained(root / VAE, local_files_only=True)
    wav2vec = Wav2Vec2Model.from_pretrained(root / WAV2VEC, local_files_only=True)
    unet_cfg = UNet2DConditionModel.load_config(root / UNET, local_files_only=True)
    reference = UNet2DConditionModel.from_config(unet_cfg)
    denoising = UNet2DConditionModel.from_config(unet_cfg)
    bank = ReferenceBank()
    audioproj = _audioproj_from(parts["audioproj"], wav2vec.config.num_hidden_layers, wav2vec.config.hidden_size)
    install_processors(reference, denoising, bank, audio_dim=audioproj.output_dim)
    face_locator = _face_locator_from(parts["face_locator"])
    imageproj = _imageproj_from(parts["imageproj"])
    for module, part in ((reference, "reference_unet"), (denoising, "denoising_unet"), (face_locator, "face_locator"),
                         (imageproj, "imageproj"), (audioproj, "audioproj")):
        _strict(module, parts[part], part)
    model = EmoModel(reference, denoising, face_locator, imageproj, audioproj, vae, wav2vec, bank, root)
    for m in (reference, denoising, face_locator, imageproj, audioproj, vae, wav2vec):
        m.to(device=device, **({} if dtype == torch.float32 else {"dtype": dtype})).eval().requires_grad_(False)
    return model


TINY_UNET = dict(sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
                 down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                 up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                 attention_head_dim=8, norm_num_groups=8)
TINY_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 16, 16),
                down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                layers_per_block=1, norm_num_groups=4, sample_size=64)
TINY_WAV2VEC = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                    conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                    do_stable_layer_norm=False, feat_extract_norm="group")


def write_tiny_checkpoint(root: str | Path, seed: int = 0, face_dim: int = 128) -> Path:
    """A random-weight checkpoint in Hallo's layout with tiny dimensions (64x64 frames,
    8x8 latents). Not a model of anything: it exercises loading and the whole path."""
    from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: PLC0415 - heavy (diffusers, transformers): only to build or load weights
    from transformers import Wav2Vec2Config, Wav2Vec2Model  # noqa: PLC0415 - heavy (diffusers, transformers): only to build or load weights
    root = Path(root)
    torch.manual_seed(seed)
    UNet2DConditionModel(**TINY_UNET).save_pretrained(root / UNET)
    AutoencoderKL(**TINY_VAE).save_pretrained(root / VAE)
    wcfg = Wav2Vec2Config(**TINY_WAV2VEC)
    Wav2Vec2Model(wcfg).save_pretrained(root / WAV2VEC)
    reference = UNet2DConditionModel(**TINY_UNET)
    denoising = UNet2DConditionModel(**TINY_UNET)
    cross = TINY_UNET["cross_attention_dim"]
    audioproj = AudioProjModel(seq_len=5, blocks=wcfg.num_hidden_layers, channels=wcfg.hidden_size,
                               intermediate_dim=64, output_dim=cross, context_tokens=4)
    install_processors(reference, denoising, ReferenceBank(), audio_dim=cross)
    for proc in denoising.attn_processors.values():   # non-zero so that audio and time matter
        if isinstance(proc, torch.nn.Module):
            for p in proc.parameters():
                torch.nn.init.normal_(p, std=0.02)
    face_locator = FaceLocator(TINY_UNET["block_out_channels"][0], 3, (8, 16, 16, 16))
    torch.nn.init.normal_(face_locator.conv_out.weight, std=0.02)
    imageproj = ImageProjModel(cross_attention_dim=cross, clip_embeddings_dim=face_dim, clip_extra_context_tokens=4)
    state = {}
    for part, module in (("reference_unet", reference), ("denoising_unet", denoising),
                         ("face_locator", face_locator), ("imageproj", imageproj), ("audioproj", audioproj)):
        state.update({f"{part}.{k}": v.clone() for k, v in module.state_dict().items()})
    (root / NET).parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, root / NET)
    (root / "veritalk_inference.json").write_text(json.dumps({"steps": 2, "clip_frames": 3, "guidance": 2.0,
                                                               "threads": 1, "tiny_random_weights": True}))
    return root
