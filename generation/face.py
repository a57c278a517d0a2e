"""Face detection, 68-point landmarks and identity embeddings with dlib.

The models ship in the `face-recognition-models` package; we locate its data
folder with importlib without importing it (its __init__ needs pkg_resources).
"""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import dlib
import numpy as np

from .errors import MultipleFaces, NoFaceFound, gettext_noop

DETECT_MAX_SIDE = 800      # HOG runs on a copy no larger than this
CNN_MAX_SIDE = 400         # the CNN fallback is slow on a CPU: keep it small
CNN_MIN_CONFIDENCE = 0.5
MIN_SIDE = 32              # smaller images hold no detectable face, and crash dlib's detectors

_lock = threading.Lock()   # dlib objects are not documented as thread-safe


@dataclass(frozen=True)
class FaceBox:
    left: float
    top: float
    right: float
    bottom: float
    score: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def as_list(self) -> list[float]:
        return [round(v, 1) for v in (self.left, self.top, self.right, self.bottom)]


@dataclass(frozen=True)
class FaceAnalysis:
    box: FaceBox
    landmarks: np.ndarray  # (68, 2) float32, x then y, in image pixels

    @property
    def pose(self) -> tuple[float, float, float]:
        """(yaw, pitch, roll) in degrees, see `head_pose`."""
        return head_pose(self.landmarks)


# A generic 3D face (millimetres, nose tip at the origin, y up, z towards the camera)
# at six stable landmarks: nose tip, chin, outer eye corners, mouth corners.
GENERIC_FACE_3D = np.array([(0.0, 0.0, 0.0), (0.0, -330.0, -65.0), (-225.0, 170.0, -135.0),
                            (225.0, 170.0, -135.0), (-150.0, -150.0, -125.0), (150.0, -150.0, -125.0)])
GENERIC_FACE_POINTS = (30, 8, 36, 45, 48, 54)


def head_pose(lm: np.ndarray) -> tuple[float, float, float]:
    """Head yaw, pitch and roll (degrees) of 68 landmarks by solvePnP on a generic 3D
    face, with a pinhole camera whose focal length is a few face widths (a portrait
    lens). Yaw > 0: the face turns to the image's right; pitch > 0: looking down."""
    pts = np.asarray(lm, np.float64)[list(GENERIC_FACE_POINTS)]
    face_w = float(np.ptp(np.asarray(lm)[:, 0])) or 1.0
    c = np.asarray(lm, np.float64).mean(axis=0)
    f = 4.0 * face_w
    cam = np.array([[f, 0, c[0]], [0, f, c[1]], [0, 0, 1]], np.float64)
    model = GENERIC_FACE_3D * np.array([1, -1, -1])       # to camera axes: y down, z away
    ok, rvec, _ = cv2.solvePnP(model, pts, cam, None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        return 0.0, 0.0, 0.0
    r, _ = cv2.Rodrigues(rvec)
    sy = np.hypot(r[0, 0], r[1, 0])
    pitch = np.degrees(np.arctan2(r[2, 1], r[2, 2]))
    yaw = np.degrees(np.arctan2(-r[2, 0], sy))
    roll = np.degrees(np.arctan2(r[1, 0], r[0, 0]))
    return float(yaw), float(pitch), float(roll)


def models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face-recognition-models package is not installed")
    return Path(spec.submodule_search_locations[0]) / "models"


@lru_cache(maxsize=None)
def _model(name: str):
    """One dlib model, loaded on first use (the CNN and the embedding take a while)."""
    d = models_dir()
    if name == "hog":
        return dlib.get_frontal_face_detector()
    if name == "cnn":
        return dlib.cnn_face_detection_model_v1(str(d / "mmod_human_face_detector.dat"))
    if name == "shape":
        return dlib.shape_predictor(str(d / "shape_predictor_68_face_landmarks.dat"))
    if name == "embed":
        return dlib.face_recognition_model_v1(str(d / "dlib_face_recognition_resnet_model_v1.dat"))
    raise KeyError(name)


class _Models:
    def __getitem__(self, name):
        return _model(name)


def _models():
    return _Models()


def warm_up(names=("hog", "cnn", "shape", "embed")) -> None:
    """Load the dlib models now (e.g. in a server before it forks its workers)."""
    for name in names:
        _model(name)


def _resized(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb), scale


def detect_faces(rgb: np.ndarray, *, detectors: tuple[str, ...] = ("hog", "cnn")) -> list[FaceBox]:
    """All faces in the image, largest first. HOG first, the CNN when HOG sees none
    (turned or stylised faces). `detectors` limits which of the two may run (the CNN
    takes about half a second a call on a CPU: callers that try many variants of one
    picture keep it for last)."""
    if min(rgb.shape[:2]) < MIN_SIDE:
        return []  # dlib fails (or crashes) on images a few pixels wide
    m = _models()
    small, scale = _resized(rgb, DETECT_MAX_SIDE)
    if min(small.shape[:2]) < MIN_SIDE // 2:
        return []  # a very elongated image: nothing a face fits in once scaled
    boxes = []
    if "hog" in detectors:
        with _lock:
            rects, scores, _ = m["hog"].run(small, 1, 0.0)
        boxes = [FaceBox(r.left() / scale, r.top() / scale, r.right() / scale, r.bottom() / scale, float(s))
                 for r, s in zip(rects, scores)]
    if not boxes and "cnn" in detectors:
        small, scale = _resized(rgb, CNN_MAX_SIDE)
        if min(small.shape[:2]) < MIN_SIDE // 2:
            return []
        with _lock:
            dets = m["cnn"](small, 0 if max(small.shape[:2]) >= 300 else 1)
        boxes = [FaceBox(d.rect.left() / scale, d.rect.top() / scale, d.rect.right() / scale,
                         d.rect.bottom() / scale, float(d.confidence))
                 for d in dets if d.confidence >= CNN_MIN_CONFIDENCE]
    return sorted(boxes, key=lambda b: b.width * b.height, reverse=True)


def landmarks(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    rect = dlib.rectangle(int(box.left), int(box.top), int(box.right), int(box.bottom))
    with _lock:
        shape = _models()["shape"](np.ascontiguousarray(rgb), rect)
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)


def face_problem(rgb: np.ndarray, boxes: list, *, field: str = "photo") -> NoFaceFound | MultipleFaces | None:
    """Why a photo with these detected faces cannot be animated (too small, no face,
    several faces), or None: one face."""
    if min(rgb.shape[:2]) < MIN_SIDE:
        return NoFaceFound(gettext_noop("the photo is only %(w)dx%(h)d pixels: too small to show a face "
                                        "(at least %(min)dx%(min)d)"), field=field,
                           params={"w": rgb.shape[1], "h": rgb.shape[0], "min": MIN_SIDE})
    if not boxes:
        return NoFaceFound(gettext_noop("no face was found in the photo; use a clear, front-facing portrait"),
                           field=field)
    if len(boxes) > 1:
        return MultipleFaces(gettext_noop("the photo shows %(n)d faces; it must show exactly one person"),
                             field=field, params={"n": len(boxes)})
    return None


def analyse_face(rgb: np.ndarray, *, field: str = "photo") -> FaceAnalysis:
    """The single face of a portrait, or a clear error when there is none or several."""
    boxes = detect_faces(rgb)
    problem = face_problem(rgb, boxes, field=field)
    if problem is not None:
        raise problem
    return FaceAnalysis(box=boxes[0], landmarks=landmarks(rgb, boxes[0]))


def embedding_at(rgb: np.ndarray, landmarks68: np.ndarray) -> np.ndarray:
    """dlib's 128-d identity embedding of the face whose 68 landmarks are given (the
    landmarks may come from another image of the same geometry, e.g. a warped frame)."""
    pts = np.asarray(landmarks68, np.float64)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    rect = dlib.rectangle(int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
    shape = dlib.full_object_detection(rect, [dlib.point(int(round(x)), int(round(y))) for x, y in pts])
    with _lock:
        vec = _models()["embed"].compute_face_descriptor(np.ascontiguousarray(rgb), shape)
    return np.asarray(vec, dtype=np.float32)


def face_embedding(rgb: np.ndarray, analysis: FaceAnalysis) -> np.ndarray:
    """dlib's 128-d identity embedding (distance < ~0.6 means the same person)."""
    return embedding_at(rgb, analysis.landmarks)   # the analysis's landmarks: no second fit
