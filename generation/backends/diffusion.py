"""The EMO/Hallo-style diffusion backend: Hallo's networks (generation.backends.emo),
loaded key for key from Hallo's `net.pth` in a local model folder
(VERITALK_DIFFUSION_WEIGHTS, Hallo's `pretrained_models/` layout), never downloaded,
with Hallo's preprocessing done from local models: the 512-d face embedding from its
ONNX face-recognition model, face and lip masks from our dlib landmarks, wav2vec2
features from the local wav2vec2-base-960h folder, optional vocal separation.

Meant for the GPU worker queue (jobs.dispatch routes backend=diffusion jobs to it);
on a CPU it runs with the tiny random-weight folder in tests and the bench.
Frames are generated a clip at a time, each clip carrying the previous clip's last
frames as motion frames, and returned to the pipeline, which watermarks every one."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from ..audio import Audio, frame_count
from ..controls import Controls
from ..errors import InvalidControl, gettext_noop
from ..face import analyse_face
from ..framing import frame_portrait
from ..threads import torch_threads
from .base import Analysis, MotionTrackLike
from .emo.audio_attention import RegionMasks
from .emo.audio_features import Wav2Vec2Features, separate_vocals, to_16k, windows
from .emo.face_inputs import FaceEmbedder, face_masks
from .emo.sampling import ClipInputs, sample_clip
from .emo.weights import CheckpointError, ModelPaths, load

WEIGHTS_ENV = "VERITALK_DIFFUSION_WEIGHTS"
# Hallo's configs/inference/default.yaml; a model folder may set its own in veritalk_inference.json
# (the tiny test folder asks for 2 steps, 3-frame clips and one thread).
DEFAULTS = {"steps": 40, "clip_frames": 16, "motion_frames": 2, "guidance": 3.5, "threads": None,
            "face_expand_ratio": 1.1, "motion_scale": [1.1, 1.1, 1.1],
            "face_zoom": 1.7}   # square side / face width: Hallo wants the face at 50-70% of the frame


class FrameTrack:
    """The diffusion model makes its own motion: the track only counts frames."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def frame(self, i: int) -> dict[str, float]:
        return {"index": float(i)}


class DiffusionBackend:
    name = "diffusion"
    version = "0.2.0"

    def __init__(self, weights: str | os.PathLike | None = None, steps: int | None = None,
                 clip_frames: int | None = None, guidance: float | None = None, device: str | None = None,
                 threads: int | None = None, motion: str | None = None, face_model: str | os.PathLike | None = None,
                 wav2vec: str | os.PathLike | None = None, vocal_separator: str | os.PathLike | None = None):
        paths = ModelPaths.resolve(weights or os.environ.get(WEIGHTS_ENV, ""), face_model, wav2vec,
                                   vocal_separator)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
        self.model = load(paths, device=self.device, dtype=self.dtype)
        settings = {**DEFAULTS, **self.model.settings}
        given = {"steps": steps, "clip_frames": clip_frames, "guidance": guidance, "threads": threads}
        settings.update({k: v for k, v in given.items() if v is not None})
        self.steps, self.clip_frames = int(settings["steps"]), int(settings["clip_frames"])
        self.motion_frames, self.guidance = int(settings["motion_frames"]), float(settings["guidance"])
        self.expand, self.zoom = float(settings["face_expand_ratio"]), float(settings["face_zoom"])
        self.motion_scale = tuple(float(v) for v in settings["motion_scale"])
        self.threads = settings["threads"]    # CPU threads for torch (1 suits the tiny test model)
        if self.clip_frames + self.motion_frames > 32:
            raise CheckpointError("clip_frames + motion_frames must be at most 32 (the motion modules' "
                                  "position table)")
        self.faces = FaceEmbedder(paths.face_model)
        wanted = self.model.net.imageproj.proj.in_features
        if self.faces.dim != wanted:
            raise CheckpointError(f"{paths.face_model} gives {self.faces.dim}-d face embeddings; net.pth's "
                                  f"imageproj takes {wanted}-d ones")
        self.voice = Wav2Vec2Features(paths.wav2vec, self.device, self.dtype)
        ap = self.model.net.audioproj
        if (self.voice.layers, self.voice.channels) != (ap.blocks, ap.channels):
            raise CheckpointError(f"{paths.wav2vec} has {self.voice.layers} layers x {self.voice.channels} channels; "
                                  f"net.pth's audioproj takes {ap.blocks} x {ap.channels}")
        self.paths = paths
        self._last: tuple[int, list[np.ndarray]] | None = None

    # -- analyse ----------------------------------------------------------------------
    def analyse(self, photo_rgb: np.ndarray, audio: Audio, controls: Controls) -> Analysis:
        if controls.width != controls.height:
            raise InvalidControl(gettext_noop("the diffusion engine makes square videos; choose a square size "
                                              "or the warp engine"), field="size")
        face = analyse_face(photo_rgb)
        framed = frame_portrait(photo_rgb, face, controls.width, zoom=self.zoom)
        n = frame_count(audio.duration, controls.fps)
        res = self.model.resolution
        ref = cv2.resize(framed.image, (res, res), interpolation=cv2.INTER_AREA)
        lm = framed.landmarks * (res / controls.width)
        region, masks = face_masks(lm, res, res // self.model.vae_scale, expand=self.expand)
        mono = to_16k(audio.mono, audio.sample_rate)
        if self.paths.vocal_separator is not None:
            with tempfile.TemporaryDirectory(prefix="veritalk-vocals-") as tmp:
                mono = separate_vocals(mono, self.paths.vocal_separator, tmp)
        with torch_threads(self.threads):
            features = self.voice(mono, controls.fps, self.clip_frames)
        self._last = None
        return Analysis(image=framed.image, landmarks=framed.landmarks, face=face, audio=audio, fps=controls.fps,
                        frames=n, extra={"reference": ref, "region": region, "masks": masks, "seed": controls.seed,
                                         "identity": self.faces.embed(ref, lm),
                                         "audio": windows(features, self.model.net.audioproj.seq_len)})

    def motion(self, analysis: Analysis, controls: Controls) -> MotionTrackLike:
        return FrameTrack(analysis.frames)

    # -- render -----------------------------------------------------------------------
    def render(self, analysis: Analysis, track: MotionTrackLike, indices: Sequence[int]) -> list[np.ndarray]:
        out = []
        for i in indices:
            clip = i // self.clip_frames
            frames = self._clip(analysis, clip)
            out.append(cv2.resize(frames[i - clip * self.clip_frames],
                                  (analysis.image.shape[1], analysis.image.shape[0]), interpolation=cv2.INTER_CUBIC))
        return out

    def _clip(self, analysis: Analysis, clip: int) -> list[np.ndarray]:
        """Clips are made in order: each needs the previous one's last frames."""
        start = 0 if self._last is None or self._last[0] > clip else self._last[0] + 1
        if self._last is not None and self._last[0] == clip:
            return self._last[1]
        with torch_threads(self.threads):
            for k in range(start, clip + 1):
                previous = self._last[1] if self._last is not None and k > 0 else None
                self._last = (k, self._generate_clip(analysis, k, previous))
        return self._last[1]

    def _generate_clip(self, analysis: Analysis, clip: int, previous: list[np.ndarray] | None) -> list[np.ndarray]:
        ex = analysis.extra
        ref = ex["reference"]
        motion = previous[-self.motion_frames:] if previous else [ref] * self.motion_frames
        pixels = torch.from_numpy(np.stack([ref, *motion])).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        masks = RegionMasks(*[[torch.from_numpy(m)[None] for m in ex["masks"][r]] for r in ("full", "face", "lip")])
        start = clip * self.clip_frames
        inputs = ClipInputs(reference=pixels, identity=torch.from_numpy(ex["identity"]),
                            face_region=torch.from_numpy(ex["region"]).permute(2, 0, 1),
                            masks=masks, audio=torch.from_numpy(ex["audio"][start:start + self.clip_frames]))
        gen = torch.Generator(device="cpu").manual_seed(int(ex["seed"]) * 1_000_003 + clip)
        video = sample_clip(self.model, inputs, steps=self.steps, guidance=self.guidance, generator=gen,
                            motion_scale=self.motion_scale)
        video = ((video + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        return [np.ascontiguousarray(f) for f in video]
