"""The voice's inputs to Hallo's networks: wav2vec2 hidden states of every layer, one
row per video frame, as Hallo computes them (its wav2vec.py): the convolutional
features are resampled to the frame count before the transformer runs, the voice
is padded with silence to whole clips, and each frame sees a window of its
neighbours. Everything loads from local folders; vocal separation is optional."""
from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import torch
from scipy.signal import resample_poly
from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2Model

from ...audio import decode_audio

SAMPLE_RATE = 16_000


class AudioModelError(ValueError):
    """A voice model folder or file cannot be used; the message names it."""


class Wav2Vec2Features:
    """transformers' Wav2Vec2Model and feature extractor from a local folder (wav2vec2-base-960h)."""

    def __init__(self, folder: str | Path, device: str = "cpu", dtype=None):
        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise AudioModelError(f"wav2vec2 folder {folder} not found (it needs config.json and the weights)")
        try:
            self.model = Wav2Vec2Model.from_pretrained(folder, local_files_only=True)
        except OSError as exc:
            raise AudioModelError(f"wav2vec2 folder {folder}: {str(exc).splitlines()[0]}") from exc
        # the 960h folder ships preprocessor_config.json; its values are the extractor's defaults
        self.extractor = (Wav2Vec2FeatureExtractor.from_pretrained(folder, local_files_only=True)
                          if (folder / "preprocessor_config.json").is_file() else Wav2Vec2FeatureExtractor())
        self.device, self.dtype = device, dtype or torch.float32
        self.model.to(device=device, dtype=self.dtype).eval().requires_grad_(False)

    @property
    def layers(self) -> int:
        return int(self.model.config.num_hidden_layers)

    @property
    def channels(self) -> int:
        return int(self.model.config.hidden_size)

    def __call__(self, mono: np.ndarray, fps: int, clip_frames: int = 1) -> np.ndarray:
        """(frames, layers, channels) for 16 kHz mono audio, frames = ceil(seconds * fps)
        rounded up to whole clips (the padding is silence)."""
        x = np.asarray(self.extractor(np.asarray(mono, np.float32), sampling_rate=SAMPLE_RATE).input_values[0],
                       np.float32)
        frames = max(1, math.ceil(len(x) / SAMPLE_RATE * fps))
        if frames % clip_frames:
            pad = (clip_frames - frames % clip_frames)
            x = np.pad(x, (0, pad * (SAMPLE_RATE // fps)))
            frames += pad
        with torch.no_grad():
            wav = torch.from_numpy(x)[None].to(self.device, self.dtype)
            conv = self.model.feature_extractor(wav)                                  # (1, C, T)
            conv = torch.nn.functional.interpolate(conv.float(), size=frames, mode="linear", align_corners=True)
        return self.encode(conv.to(self.dtype))

    def encode(self, conv: torch.Tensor) -> np.ndarray:
        """(T, layers, channels): every transformer layer's output (transformers'
        hidden_states[1:]) for convolutional features (1, C, T)."""
        m = self.model
        outputs: list = []
        hooks = [layer.register_forward_hook(lambda mod, inp, out: outputs.append(
            out[0] if isinstance(out, tuple) else out)) for layer in m.encoder.layers]
        try:
            with torch.no_grad():
                hidden, _ = m.feature_projection(conv.transpose(1, 2))
                m.encoder(hidden)
        finally:
            for h in hooks:
                h.remove()
        return torch.stack(outputs, dim=2)[0].float().cpu().numpy()


def windows(features: np.ndarray, width: int = 5) -> np.ndarray:
    """(frames, width, ...): each frame with its neighbours, clamped at the ends."""
    n = features.shape[0]
    half = width // 2
    idx = np.clip(np.arange(n)[:, None] + np.arange(-half, width - half)[None, :], 0, n - 1)
    return features[idx]


def to_16k(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    if sample_rate == SAMPLE_RATE:
        return np.asarray(mono, np.float32)
    g = math.gcd(SAMPLE_RATE, int(sample_rate))
    return resample_poly(mono, SAMPLE_RATE // g, int(sample_rate) // g).astype(np.float32)


def separate_vocals(mono: np.ndarray, model: str | Path, workdir: str | Path) -> np.ndarray:
    """The vocal stem of 16 kHz mono audio through the `audio-separator` package and
    Hallo's MDX-Net model file (audio_separator/Kim_Vocal_2.onnx), both local. Optional:
    Hallo uses it to keep music out of the lip motion; speech-only input does not need it."""
    model = Path(model)
    if not model.is_file():
        raise AudioModelError(f"vocal separation model {model} not found")
    try:
        from audio_separator.separator import Separator  # noqa: PLC0415 - optional (audio-separator): vocal separation only
    except ImportError as exc:
        raise AudioModelError(f"vocal separation with {model} needs the audio-separator package, "
                              "which is not installed") from exc
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / "voice.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(mono, -1, 1) * 32767).astype("<i2").tobytes())
    sep = Separator(output_dir=str(workdir), output_single_stem="vocals", model_file_dir=str(model.parent))
    sep.load_model(model.name)
    outputs = sep.separate(str(src))
    if not outputs:
        raise AudioModelError(f"vocal separation with {model} produced nothing")
    vocals = decode_audio(workdir / Path(outputs[0]).name)
    return to_16k(vocals.mono, vocals.sample_rate)
