"""The portrait's inputs to Hallo's networks, from our own dlib landmarks (68 points)
instead of Hallo's insightface detector and MediaPipe mesh:

- the 512-d identity embedding: the face aligned on the five ArcFace points and run
  through the face-recognition ONNX model of Hallo's `face_analysis/models` folder
  (glintr100.onnx) with onnxruntime, the raw (not normalised) vector as Hallo uses it;
- the face-region mask for the face locator (the face's box, widened by
  `face_expand_ratio`), and the full / face / lip attention masks for the audio
  modules at each UNet level, blurred as Hallo blurs them."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

# ArcFace's five reference points (eye centres, nose tip, mouth corners) in a 112 x 112 crop
ARCFACE_POINTS = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                           [70.7299, 92.2041]], np.float32)
MASK_SIZE = 64            # Hallo draws its attention masks at 64 x 64, then resizes them per level


class FaceModelError(ValueError):
    """The face-recognition model cannot be used; the message says why."""


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """Eye centres, nose tip and mouth corners (image left first) from dlib's 68 points."""
    lm = np.asarray(landmarks, np.float32)
    return np.stack([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]]).astype(np.float32)


def align_face(rgb: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """The face warped by the least-squares similarity that puts its five points on ArcFace's."""
    dst = ARCFACE_POINTS * (size / 112.0)
    m, _ = cv2.estimateAffinePartial2D(five_points(landmarks), dst, method=cv2.RANSAC,
                                       ransacReprojThreshold=1e4)   # every point an inlier: a plain fit
    if m is None:
        raise FaceModelError("could not align the face for the identity embedding")
    return cv2.warpAffine(rgb, m, (size, size), borderValue=0)


class FaceEmbedder:
    """An ArcFace-style ONNX recognition model run with onnxruntime."""

    def __init__(self, model: str | Path, providers: list[str] | None = None):
        model = Path(model)
        if not model.is_file():
            raise FaceModelError(f"face-recognition model {model} not found")
        available = ort.get_available_providers()
        chosen = [p for p in (providers or ["CUDAExecutionProvider", "CPUExecutionProvider"]) if p in available]
        try:
            self.session = ort.InferenceSession(str(model), providers=chosen or available)
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise FaceModelError(f"{model} is not a usable ONNX model: {str(exc).splitlines()[0]}") from exc
        inp = self.session.get_inputs()[0]
        shape = inp.shape
        if len(shape) != 4 or shape[1] != 3:
            raise FaceModelError(f"{model} takes {shape}, not a batch of 3-channel face crops")
        self.input_name = inp.name
        self.size = int(shape[2]) if isinstance(shape[2], int) else 112
        self.mean, self.std = _normalisation(model)

    @property
    def dim(self) -> int:
        return int(self.session.get_outputs()[0].shape[-1])

    def embed(self, rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        crop = align_face(rgb, landmarks, self.size).astype(np.float32)
        blob = ((crop - self.mean) / self.std).transpose(2, 0, 1)[None]      # RGB, NCHW
        out = self.session.run(None, {self.input_name: np.ascontiguousarray(blob, np.float32)})[0]
        return np.asarray(out, np.float32).reshape(-1)


def _normalisation(model: Path) -> tuple[float, float]:
    """insightface's rule: a model whose graph starts with Sub and Mul takes raw 0..255
    pixels, any other takes (x - 127.5) / 127.5."""
    try:
        import onnx  # noqa: PLC0415 - optional (onnx): without it, ArcFace's usual input is assumed
        nodes = onnx.load(str(model), load_external_data=False).graph.node[:8]
    except (ImportError, OSError, ValueError, RuntimeError):   # no onnx package or graph: ArcFace's usual input
        return 127.5, 127.5
    kinds = {n.op_type for n in nodes} | {n.name.split("_")[0].capitalize() for n in nodes}
    return (0.0, 1.0) if {"Sub", "Mul"} <= kinds else (127.5, 127.5)


def _expand(box: tuple[float, float, float, float], ratio: float, w: int, h: int) -> tuple[int, int, int, int]:
    """Hallo's expand_region: the box scaled about its centre, slid back inside the image."""
    x0, x1, y0, y1 = box
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    sx, sy = (x1 - x0) * ratio, (y1 - y0) * ratio
    x0, x1, y0, y1 = cx - sx // 2, cx + sx // 2, cy - sy // 2, cy + sy // 2
    if x0 < 0:
        x1, x0 = x1 - x0, 0
    if x1 > w:
        x0, x1 = x0 - (x1 - w), w
    if y0 < 0:
        y1, y0 = y1 - y0, 0
    if y1 > h:
        y0, y1 = y0 - (y1 - h), h
    return round(max(x0, 0)), round(x1), round(max(y0, 0)), round(y1)


def _box(points: np.ndarray) -> tuple[float, float, float, float]:
    lo, hi = np.round(points.min(0)), np.round(points.max(0))
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def face_outline(landmarks: np.ndarray) -> np.ndarray:
    """Jaw and brows, plus a hairline guessed a third of a face above the brows
    (dlib has no forehead points; MediaPipe's silhouette, which Hallo uses, has)."""
    lm = np.asarray(landmarks, np.float32)
    brow_top, chin = lm[17:27, 1].min(), lm[8, 1]
    hairline = lm[17:27].copy()
    hairline[:, 1] = brow_top - 0.5 * (chin - brow_top)
    return np.concatenate([lm[0:27], hairline])


def _rect(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    x0, x1, y0, y1 = box
    m[y0:y1, x0:x1] = 255
    return m


def _blurred(mask: np.ndarray, kernel: int) -> np.ndarray:
    small = cv2.resize(mask, (MASK_SIZE, MASK_SIZE))
    return cv2.normalize(cv2.GaussianBlur(small, (kernel, kernel), 0), None, 0, 255, cv2.NORM_MINMAX)


def face_masks(landmarks: np.ndarray, size: int, latent: int, levels: int = 4, expand: float = 1.1):
    """(face_region (size, size, 3) float32 0/1, {"full"|"face"|"lip": [level 0..levels-1]
    (latent / 2**level)**2 weights in 0..1})."""
    outline_box = _expand(_box(face_outline(landmarks)), expand, size, size)
    lip_box = _expand(_box(np.asarray(landmarks, np.float32)[48:68]), 2.0, size, size)
    face = _rect((size, size), outline_box)
    face_blur = _blurred(face, 51)
    lip_blur = _blurred(_rect((size, size), lip_box), 31)
    regions = {"full": 255 - face_blur, "face": cv2.subtract(face_blur, lip_blur), "lip": lip_blur}
    per_level = {name: [] for name in regions}
    for level in range(levels):
        side = max(1, latent >> level)
        for name, m in regions.items():
            small = cv2.resize(m, (side, side), interpolation=cv2.INTER_AREA if side < MASK_SIZE else cv2.INTER_LINEAR)
            per_level[name].append(small.astype(np.float32).reshape(-1) / 255.0)
    region = np.repeat((face > 0).astype(np.float32)[:, :, None], 3, axis=2)
    return region, per_level
