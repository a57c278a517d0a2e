"""Hallo's model folder (its `pretrained_models/`), read locally; nothing is downloaded:

    <root>/hallo/net.pth                              the five parts, loaded strictly (layout.HalloNet)
    <root>/stable-diffusion-v1-5/unet/config.json     the UNet config both UNets are built from
    <root>/sd-vae-ft-mse/                             AutoencoderKL: config.json + weights
    <root>/wav2vec/wav2vec2-base-960h/                Wav2Vec2Model: config.json + weights (+ preprocessor_config.json)
    <root>/face_analysis/models/glintr100.onnx        face-recognition ONNX model (512-d embedding)
    <root>/audio_separator/Kim_Vocal_2.onnx           optional vocal separation (audio-separator package)

The face model, the wav2vec2 folder and the separator may live elsewhere (`ModelPaths`).
net.pth is read with torch.load(weights_only=True): tensors only, never pickled
objects; float16 and float32 files load alike. The networks are built on the meta
device and take the file's tensors (no 2.4-billion-parameter random init first).

`write_tiny_checkpoint` writes a random-weight folder of this layout with tiny
dimensions and the same net.pth key names: the CPU tests and `bench.generation
--tiny` run the whole path with it."""
from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import torch
from diffusers import AutoencoderKL
from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

from .layout import PARTS, HalloNet, build
from .reference import ReferenceBank, install

NET = Path("hallo") / "net.pth"
UNET = Path("stable-diffusion-v1-5") / "unet"
VAE = Path("sd-vae-ft-mse")
WAV2VEC = Path("wav2vec") / "wav2vec2-base-960h"
FACE_MODEL = Path("face_analysis") / "models" / "glintr100.onnx"
VOCAL_SEPARATOR = Path("audio_separator") / "Kim_Vocal_2.onnx"
INFERENCE_FILE = "veritalk_inference.json"


class CheckpointError(ValueError):
    """The model folder does not hold a usable checkpoint; the message says what is wrong."""


@dataclass
class ModelPaths:
    root: Path
    face_model: Path
    wav2vec: Path
    vocal_separator: Path | None = None      # None: no vocal separation

    @classmethod
    def resolve(cls, root: str | Path, face_model: str | Path | None = None, wav2vec: str | Path | None = None,
                vocal_separator: str | Path | None = None) -> ModelPaths:
        root = Path(root) if root else Path("")
        return cls(root=root, face_model=Path(face_model) if face_model else root / FACE_MODEL,
                   wav2vec=Path(wav2vec) if wav2vec else root / WAV2VEC,
                   vocal_separator=Path(vocal_separator) if vocal_separator else None)

    def missing(self) -> list[str]:
        """Each required file or folder that is not there, with what it is for."""
        need = [(self.root / NET, "Hallo's weights"), (self.root / UNET / "config.json", "the SD 1.5 UNet config"),
                (self.root / VAE / "config.json", "the VAE"), (self.wav2vec / "config.json", "wav2vec2"),
                (self.face_model, "the face-recognition ONNX model")]
        if self.vocal_separator is not None:
            need.append((self.vocal_separator, "the vocal separation model"))
        return [f"{_shown(p, self.root)} ({what})" for p, what in need if not p.is_file()]


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) if str(root) not in ("", ".") else str(path)
    except ValueError:
        return str(path)


@dataclass
class EmoModel:
    net: HalloNet
    vae: torch.nn.Module
    bank: ReferenceBank
    paths: ModelPaths
    device: str = "cpu"
    dtype: torch.dtype = torch.float32
    settings: dict = field(default_factory=dict)

    @property
    def vae_scale(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def resolution(self) -> int:
        return int(self.net.denoising_unet.config["sample_size"]) * self.vae_scale


def read_state(path: Path) -> dict[str, torch.Tensor]:
    """net.pth as tensors only (memory-mapped where the file allows it)."""
    try:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:      # an old (non-zip) file cannot be memory-mapped
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"{path} must hold tensors only (it is read with weights_only=True): "
                              f"{str(exc).splitlines()[0]}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} must be one flat state dict of tensors, as Hallo saves net.pth")
    return state


def _names(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def load_strict(net: torch.nn.Module, state: dict[str, torch.Tensor], source: str = "net.pth") -> None:
    """Load every tensor of `state` into `net`, which must have exactly these keys and
    shapes; anything else raises CheckpointError naming the keys. The net may be on the
    meta device: it then takes the file's tensors as they are (cast later)."""
    expected = net.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = [f"{len(missing)} missing ({_names(missing)})" if missing else "",
                 f"{len(unexpected)} unexpected ({_names(unexpected)})" if unexpected else ""]
        raise CheckpointError(f"{source} does not have Hallo's layout: " + "; ".join(p for p in parts if p))
    wrong = [f"{k} {tuple(state[k].shape)} where the network has {tuple(v.shape)}"
             for k, v in expected.items() if tuple(state[k].shape) != tuple(v.shape)]
    if wrong:
        raise CheckpointError(f"{source}: {len(wrong)} tensors of the wrong shape: {_names(wrong, 3)}")
    on_meta = next(iter(expected.values())).is_meta
    net.load_state_dict(state, strict=True, assign=on_meta)


def _small_sizes(state: dict, audio_layers: int, audio_channels: int) -> dict:
    """The small nets' sizes, read from their tensors (Hallo's are HALLO_SMALL)."""
    cross = state["imageproj.norm.weight"].shape[0]
    out, emb = state["imageproj.proj.weight"].shape
    hidden, inputs = state["audioproj.proj1.weight"].shape
    if inputs % (audio_layers * audio_channels):
        raise CheckpointError(f"net.pth: audioproj takes {inputs} inputs, not a whole number of windows of "
                              f"wav2vec2's {audio_layers} layers x {audio_channels} channels")
    chans = [state["face_locator.conv_in.weight"].shape[0]]
    i = 1
    while f"face_locator.blocks.{i}.weight" in state:
        chans.append(state[f"face_locator.blocks.{i}.weight"].shape[0])
        i += 2
    return dict(face_embedding=emb, face_tokens=out // cross, audio_window=inputs // (audio_layers * audio_channels),
                audio_layers=audio_layers, audio_channels=audio_channels, audio_hidden=hidden,
                audio_tokens=state["audioproj.proj3.weight"].shape[0] // state["audioproj.norm.weight"].shape[0],
                locator_channels=tuple(chans))


def _wav2vec_config(folder: Path) -> tuple[int, int]:
    cfg = json.loads((folder / "config.json").read_text())
    return int(cfg["num_hidden_layers"]), int(cfg["hidden_size"])


def settings_of(root: Path) -> dict:
    f = Path(root) / INFERENCE_FILE
    return json.loads(f.read_text()) if f.is_file() else {}


def load(paths: ModelPaths | str | Path, device: str = "cpu", dtype: torch.dtype = torch.float32) -> EmoModel:
    """Build the networks from the folder's UNet config and load net.pth strictly."""
    if not isinstance(paths, ModelPaths):
        paths = ModelPaths.resolve(paths)
    root = paths.root
    if not str(root) or str(root) == "." or not root.is_dir():
        raise CheckpointError(f"diffusion model folder {str(root)!r} not found; set VERITALK_DIFFUSION_WEIGHTS to a "
                              f"folder in Hallo's layout ({NET}, {UNET}, {VAE}, {WAV2VEC}, {FACE_MODEL})")
    missing = paths.missing()
    if missing:
        raise CheckpointError(f"diffusion model folder {root} lacks: {', '.join(missing)}")
    state = read_state(root / NET)
    heads = sorted({k.split(".", 1)[0] for k in state})
    if heads != sorted(PARTS):
        raise CheckpointError(f"{root / NET} must hold the parts {', '.join(PARTS)}; it holds {', '.join(heads)}")
    unet_cfg = json.loads((root / UNET / "config.json").read_text())
    layers, channels = _wav2vec_config(paths.wav2vec)
    try:
        net = build(unet_cfg, "meta", **_small_sizes(state, layers, channels))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{root / UNET / 'config.json'} does not describe Hallo's UNet: {exc}") from exc
    load_strict(net, state, str(root / NET))
    stray = [n for n, t in list(net.named_parameters()) + list(net.named_buffers()) if t.is_meta]
    if stray:
        raise CheckpointError(f"net.pth left {_names(stray)} without values")
    bank = ReferenceBank()
    install(net.reference_unet, bank)
    install(net.denoising_unet, bank)
    vae = AutoencoderKL.from_pretrained(root / VAE, local_files_only=True)
    net.to(device=device, dtype=dtype).eval().requires_grad_(False)      # a float16 file becomes `dtype` here
    vae.to(device=device, **({} if dtype == torch.float32 else {"dtype": dtype})).eval().requires_grad_(False)
    return EmoModel(net, vae, bank, paths, device, dtype, settings_of(root))


TINY_UNET = dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=[16, 32, 64, 64],
                 layers_per_block=2, cross_attention_dim=32, attention_head_dim=8,
                 down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
                 up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3, act_fn="silu", norm_num_groups=8,
                 norm_eps=1e-5, flip_sin_to_cos=True, freq_shift=0, downsample_padding=1, mid_block_scale_factor=1)
TINY_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 16, 16),
                down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                layers_per_block=1, norm_num_groups=4, sample_size=64)
TINY_WAV2VEC = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                    conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                    do_stable_layer_norm=False, feat_extract_norm="group")
TINY_SMALL = dict(face_embedding=512, face_tokens=4, audio_window=5, audio_layers=2, audio_channels=32,
                  audio_hidden=64, audio_tokens=4, locator_channels=(8, 16, 16, 16))
TINY_SETTINGS = {"steps": 2, "clip_frames": 3, "motion_frames": 2, "guidance": 2.0, "threads": 1,
                 "tiny_random_weights": True}


class TinyFaceNet(torch.nn.Module):
    """A random stand-in for the recognition model: 112 x 112 RGB crop -> 512 numbers."""

    def __init__(self, dim: int = 512):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 8, stride=8)
        self.fc = torch.nn.Linear(8 * 14 * 14, dim)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


def write_face_model(path: str | Path, dim: int = 512, seed: int = 0) -> Path:
    """Export a random face-recognition-shaped ONNX model (input 'data' N x 3 x 112 x 112)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    torch.onnx.export(TinyFaceNet(dim).eval(), (torch.zeros(1, 3, 112, 112),), str(path), input_names=["data"],
                      output_names=["embedding"], dynamic_axes={"data": {0: "n"}, "embedding": {0: "n"}},
                      dynamo=False)
    return path


def write_tiny_checkpoint(root: str | Path, seed: int = 0) -> Path:
    """A random-weight folder in Hallo's layout with tiny dimensions (64 x 64 frames,
    8 x 8 latents) and net.pth's key names. Not a model of anything: it exercises the
    loading and the whole path."""
    root = Path(root)
    torch.manual_seed(seed)
    (root / UNET).mkdir(parents=True, exist_ok=True)
    (root / UNET / "config.json").write_text(json.dumps({"_class_name": "UNet2DConditionModel", **TINY_UNET}))
    AutoencoderKL(**TINY_VAE).save_pretrained(root / VAE)
    Wav2Vec2Model(Wav2Vec2Config(**TINY_WAV2VEC)).save_pretrained(root / WAV2VEC)
    Wav2Vec2FeatureExtractor().save_pretrained(root / WAV2VEC)
    write_face_model(root / FACE_MODEL, TINY_SMALL["face_embedding"], seed)
    net = build(TINY_UNET, "cpu", **TINY_SMALL)
    with torch.no_grad():      # Hallo zero-initialises these; non-zero here so that every input matters
        for name, p in net.named_parameters():
            if "zero_conv" in name or "face_locator.conv_out" in name or "temporal_transformer.proj_out" in name:
                p.normal_(std=0.05)
    (root / NET).parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.clone() for k, v in net.state_dict().items()}, root / NET)
    (root / INFERENCE_FILE).write_text(json.dumps(TINY_SETTINGS))
    return root
