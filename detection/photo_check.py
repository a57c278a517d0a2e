"""Is this a photograph of a person, or a drawing, a cartoon, a render or a screen?

Enrolment (and any other place that must be shown a real person's face) asks
`require_photograph`; it raises `NotAPhotograph` (an InputError with its own code and a
translated message) when the classifier's score reaches the model's threshold. The model
(gradient-boosted trees on detection.photo_features, trained by detection.photo_train)
ships as a skops file beside a JSON manifest; nothing is ever unpickled."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier

from common.files import sha256_file
from generation.errors import InputError, gettext_noop

from .photo_features import PHOTO_FEATURE_NAMES, PHOTO_FEATURE_VERSION, portrait_features

MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODEL_DIR / "photo_check.skops"
MODEL_REVISION = "hgb300-balanced"
TRUSTED_TYPES = [
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "numpy.ndarray", "numpy.dtype", "numpy.float64", "numpy.int64", "numpy.uint8", "numpy.bool_",
    "builtins.slice", "collections.OrderedDict",
]
REASON = gettext_noop("This looks like a drawing or a render, not a photograph of a person")


class NotAPhotograph(InputError):
    code = "not_a_photograph"


class PhotoModelError(ValueError):
    """The photo check's model file is missing, not a skops file, or holds untrusted types."""


@dataclass
class PhotoModel:
    classifier: HistGradientBoostingClassifier
    threshold: float = 0.5
    version: str = "untrained"
    feature_version: str = PHOTO_FEATURE_VERSION

    def scores(self, X: np.ndarray) -> np.ndarray:
        """0..1 per row: how much the image looks like something other than a photograph."""
        return self.classifier.predict_proba(np.asarray(X, np.float32))[:, 1]


@dataclass(frozen=True)
class PhotoVerdict:
    photograph: bool
    score: float
    threshold: float
    model_version: str

    def as_dict(self) -> dict:
        return {"photograph": self.photograph, "score": round(self.score, 4), "threshold": self.threshold,
                "model_version": self.model_version}


def fit_model(X: np.ndarray, y: np.ndarray, *, seed: int = 0) -> PhotoModel:
    clf = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.06, max_leaf_nodes=15, min_samples_leaf=12,
                                         l2_regularization=1.0, class_weight="balanced", random_state=seed)
    clf.fit(np.asarray(X, np.float32), np.asarray(y))
    return PhotoModel(clf)


def save_model(model: PhotoModel, path: str | Path, manifest: dict | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle = {"classifier": model.classifier, "threshold": float(model.threshold), "version": model.version,
              "feature_version": model.feature_version, "feature_names": json.dumps(PHOTO_FEATURE_NAMES)}
    tmp = path.with_suffix(".part")
    sio.dump(bundle, tmp)
    untrusted = set(sio.get_untrusted_types(file=tmp)) - set(TRUSTED_TYPES)
    if untrusted:
        tmp.unlink()
        raise PhotoModelError(f"the model holds types outside the trusted list: {sorted(untrusted)}")
    tmp.replace(path)
    if manifest is not None:
        manifest = {**manifest, "model_file": path.name, "model_sha256": sha256_file(path)}
        path.with_suffix(".json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def load_model(path: str | Path = DEFAULT_MODEL) -> PhotoModel:
    """A model saved by `save_model`; refuses anything but a skops file of trusted types
    computed on this code's features."""
    path = Path(path)
    if not path.is_file():
        raise PhotoModelError(f"no photo-check model at {path}; train one with `python -m detection.photo_train`")
    if not zipfile.is_zipfile(path):
        raise PhotoModelError(f"{path.name} is not a skops model file (refusing to load it)")
    try:
        untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
    except Exception as exc:
        raise PhotoModelError(f"{path.name} could not be read as a skops model: {exc}") from exc
    if untrusted:
        raise PhotoModelError(f"{path.name} holds types outside the trusted list: {sorted(untrusted)}")
    b = sio.load(path, trusted=TRUSTED_TYPES)
    if b.get("feature_version") != PHOTO_FEATURE_VERSION or json.loads(b["feature_names"]) != PHOTO_FEATURE_NAMES:
        raise PhotoModelError(f"{path.name} was trained on features {b.get('feature_version')!r}; this code computes "
                              f"{PHOTO_FEATURE_VERSION!r}: retrain with `python -m detection.photo_train`")
    return PhotoModel(b["classifier"], float(b["threshold"]), b["version"], b["feature_version"])


@lru_cache(maxsize=1)
def shipped_model() -> PhotoModel:
    return load_model(DEFAULT_MODEL)


def check_photo(rgb: np.ndarray, landmarks: np.ndarray, *, model: PhotoModel | None = None) -> PhotoVerdict:
    """The verdict on one image whose face has these 68 landmarks."""
    model = model or shipped_model()
    score = float(model.scores(portrait_features(rgb, landmarks)[None])[0])
    return PhotoVerdict(score < model.threshold, score, model.threshold, model.version)


def require_photograph(rgb: np.ndarray, landmarks: np.ndarray, *, field: str = "photo",
                       model: PhotoModel | None = None) -> PhotoVerdict:
    """The verdict, or NotAPhotograph when the face is not a photograph of a person."""
    verdict = check_photo(rgb, landmarks, model=model)
    if not verdict.photograph:
        raise NotAPhotograph(REASON, field=field)
    return verdict
