"""Is this a photograph of a person, or a drawing, a cartoon, a render or a screen?

Enrolment (and the intake, for a job's photo) asks `require_photograph`; it raises
`NotAPhotograph` (an InputError with its own code and a translated message) when the
image's score reaches the reference's threshold.

The score is a one-class statistic: real photographs and frames of real videos (clean and
degraded; detection.photo_train) are the reference, and a face scores by how far it sits,
in the direction a drawing or a render goes, beyond the reference on a few cues
(detection.photo_features): eyes larger and a mouth smaller than a person's (cartoon
proportions), skin without a camera's fine texture against its coarse shading (paint,
renders), outlines sharper than a photo's, dark drawn lines, exaggerated skin colour.
Each cue's value becomes a normal score through the reference's empirical distribution;
the excess beyond `tail` standard deviations, squared, summed over the `top` strongest
cues, is the score. The reference ships as JSON (sorted reference values, no code, nothing
unpickled) beside its training manifest."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from scipy.special import ndtri

from generation.errors import InputError, gettext_noop

from .photo_features import PHOTO_FEATURE_NAMES, PHOTO_FEATURE_VERSION, portrait_features

MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODEL_DIR / "photo_check.json"
MODEL_REVISION = "tail8-top2"
WORK_SIDE = 512      # images are brought to at most this long side before their features are measured
# The cues, with the direction in which a drawing or a render departs from a photograph.
CUES = {
    "eye_area_face": (+1, gettext_noop("eyes larger than a person's")),
    "mouth_w_iod": (-1, gettext_noop("a mouth smaller than a person's")),
    "skin_hp1_hp2": (-1, gettext_noop("skin without a camera's fine texture")),
    "skin_hp2_hp4": (-1, gettext_noop("skin shaded smoothly, as painted or rendered")),
    "face_hp1_hp4": (-1, gettext_noop("a face without a camera's fine detail")),
    "edge_sharpness": (+1, gettext_noop("outlines sharper than a photo's")),
    "dark_line_frac": (+1, gettext_noop("dark drawn lines")),
    "skin_sat_std": (+1, gettext_noop("exaggerated skin colours")),
}
REASON = gettext_noop("This looks like a drawing or a render, not a photograph of a person")


class NotAPhotograph(InputError):
    code = "not_a_photograph"


class PhotoModelError(ValueError):
    """The photo check's reference file is missing, unreadable or made for other features."""


@dataclass
class PhotoModel:
    reference: np.ndarray                 # (n, len(CUES)) sorted per column: real photos' cue values
    threshold: float = 3.2
    tail: float = 1.0
    top: int = 2
    version: str = "untrained"
    feature_version: str = PHOTO_FEATURE_VERSION
    cues: list = field(default_factory=lambda: list(CUES))

    @classmethod
    def from_real(cls, X_real: np.ndarray, **kw) -> "PhotoModel":
        """A reference from the full feature rows (PHOTO_FEATURE_NAMES) of real images."""
        cols = [PHOTO_FEATURE_NAMES.index(c) for c in CUES]
        ref = np.sort(np.nan_to_num(np.asarray(X_real, np.float64)[:, cols], nan=0.0), axis=0)
        return cls(ref, **kw)

    def z(self, X: np.ndarray) -> np.ndarray:
        """Signed normal scores (positive: towards a drawing) of full feature rows."""
        cols = [PHOTO_FEATURE_NAMES.index(c) for c in self.cues]
        A = np.nan_to_num(np.asarray(X, np.float64)[:, cols], nan=0.0)
        n = len(self.reference)
        p = np.stack([(np.searchsorted(self.reference[:, j], A[:, j], "left")
                       + np.searchsorted(self.reference[:, j], A[:, j], "right")) / (2 * n)
                      for j in range(A.shape[1])], axis=1)
        signs = np.array([CUES[c][0] for c in self.cues], np.float64)
        return ndtri(np.clip(p, 0.5 / n, 1 - 0.5 / n)) * signs

    def scores(self, X: np.ndarray) -> np.ndarray:
        excess = np.maximum(self.z(X) - self.tail, 0.0) ** 2
        return np.sort(excess, axis=1)[:, -self.top:].sum(axis=1)


@dataclass(frozen=True)
class PhotoVerdict:
    photograph: bool
    score: float
    threshold: float
    model_version: str
    cues: tuple = ()        # the cue names beyond the reference's tail, strongest first

    def as_dict(self) -> dict:
        return {"photograph": self.photograph, "score": round(self.score, 4), "threshold": self.threshold,
                "model_version": self.model_version, "cues": [CUES[c][1] for c in self.cues]}


def save_model(model: PhotoModel, path: str | Path, manifest: dict | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": "veritalk-photo-check-1", "version": model.version, "feature_version": model.feature_version,
           "cues": model.cues, "directions": [CUES[c][0] for c in model.cues], "tail": model.tail,
           "top": model.top, "threshold": model.threshold,
           "reference": np.round(model.reference, 5).T.tolist(), "manifest": manifest or {}}
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    tmp.replace(path)
    return path


def load_model(path: str | Path = DEFAULT_MODEL) -> PhotoModel:
    """A reference saved by `save_model` (plain JSON: nothing in it is executed)."""
    path = Path(path)
    if not path.is_file():
        raise PhotoModelError(f"no photo-check reference at {path}; make one with `python -m detection.photo_train`")
    try:
        doc = json.loads(path.read_text())
        if doc.get("format") != "veritalk-photo-check-1":
            raise PhotoModelError(f"{path.name} is not a photo-check reference (format {doc.get('format')!r})")
        ref = np.asarray(doc["reference"], np.float64).T
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        if isinstance(exc, PhotoModelError):
            raise
        raise PhotoModelError(f"{path.name} could not be read as a photo-check reference: {exc}") from exc
    if doc.get("feature_version") != PHOTO_FEATURE_VERSION or any(c not in CUES for c in doc["cues"]):
        raise PhotoModelError(f"{path.name} was made on features {doc.get('feature_version')!r}; this code computes "
                              f"{PHOTO_FEATURE_VERSION!r}: remake it with `python -m detection.photo_train`")
    if ref.shape != (ref.shape[0], len(doc["cues"])) or ref.shape[0] < 10:
        raise PhotoModelError(f"{path.name} holds a reference of shape {ref.shape}")
    return PhotoModel(np.sort(ref, axis=0), float(doc["threshold"]), float(doc["tail"]), int(doc["top"]),
                      doc["version"], doc["feature_version"], list(doc["cues"]))


def image_features(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """PHOTO_FEATURE_NAMES of one image, measured at the scale the reference was (long side
    at most WORK_SIDE)."""
    h, w = rgb.shape[:2]
    s = WORK_SIDE / max(h, w)
    lm = np.asarray(landmarks, np.float64)
    if s < 1:
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        lm = lm * s
    return portrait_features(rgb, lm)


@lru_cache(maxsize=1)
def shipped_model() -> PhotoModel:
    return load_model(DEFAULT_MODEL)


def check_photo(rgb: np.ndarray, landmarks: np.ndarray, *, model: PhotoModel | None = None) -> PhotoVerdict:
    """The verdict on one image whose face has these 68 landmarks."""
    model = model or shipped_model()
    x = image_features(rgb, landmarks)[None]
    z = model.z(x)[0]
    score = float(model.scores(x)[0])
    cues = tuple(model.cues[j] for j in np.argsort(-z) if z[j] > model.tail)
    return PhotoVerdict(score < model.threshold, score, model.threshold, model.version, cues)


def require_photograph(rgb: np.ndarray, landmarks: np.ndarray, *, field: str = "photo",
                       model: PhotoModel | None = None) -> PhotoVerdict:
    """The verdict, or NotAPhotograph when the face is not a photograph of a person."""
    verdict = check_photo(rgb, landmarks, model=model)
    if not verdict.photograph:
        raise NotAPhotograph(REASON, field=field)
    return verdict
