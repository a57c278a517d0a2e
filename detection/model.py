"""The classifier: gradient-boosted trees on the window features, with calibrated
probabilities; saved with skops (never pickle) beside a JSON training manifest.

A clip's score is the mean calibrated probability of its windows; the labels'
thresholds come from the calibration data (out-of-fold scores), not from taste."""
from __future__ import annotations

import json
import math
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from common.files import sha256_file

from .explain import LABEL_TEXT, cue, label_key, model_card
from .features import FEATURE_GROUPS, FEATURE_NAMES, FEATURE_VERSION, feature_group

MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODEL_DIR / "detector.skops"
# The labels, never a claim that a file is real (detection.explain).
LABELS = tuple(LABEL_TEXT.values())
# The cue groups the shipped model reads: all of them. A model on the motion groups alone
# (MOTION_GROUPS: lips, jaw and face shape, head, blinks, lips against the voice) catches
# other generators' families left out of training somewhat more often and more steadily
# across fold assignments, but our own engine's clips less well (docs/detector.md, "Motion
# cues alone"); `bench.detector --compare-motion-only` measures both.
MODEL_GROUPS = tuple(FEATURE_GROUPS)
MODEL_FEATURES = [n for n in FEATURE_NAMES if feature_group(n) in MODEL_GROUPS]
MOTION_GROUPS = ("audio_mouth", "blinks", "face_shape", "head_motion", "lip_motion")
MOTION_FEATURES = [n for n in FEATURE_NAMES if feature_group(n) in MOTION_GROUPS]


def columns_of(names: list[str]) -> np.ndarray:
    """Indices of `names` in a full feature row (FEATURE_NAMES)."""
    return np.array([FEATURE_NAMES.index(n) for n in names], dtype=int)


# Changes whenever the classifier's make-up changes: part of the model version with the data.
# Weigh every video the same in training (booster and calibrator), not every window.
VIDEO_WEIGHTS = False
MODEL_REVISION = ("hgb200-impute-indicator-sigmoid3-calibrator-balanced" + ("-video-weighted" if VIDEO_WEIGHTS else "")
                  + ("" if set(MODEL_GROUPS) == set(FEATURE_GROUPS) else "-groups-" + "+".join(MODEL_GROUPS)))
# Types a detector file may contain; anything else makes `load` refuse the file.
TRUSTED_TYPES = [
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn.frozen._frozen.FrozenEstimator",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.uint8",
    "numpy.bool_",
    "builtins.slice",
    "collections.OrderedDict",
]


class ModelFileError(ValueError):
    """The model file is missing, not a skops file, or holds types we do not trust."""


def make_classifier(*, groups: np.ndarray | None = None, X=None, y=None, cv: int = 3, seed: int = 0,
                    max_iter: int = 200, min_samples_leaf: int = 10) -> CalibratedClassifierCV:
    """An uncalibrated booster wrapped in sigmoid calibration fitted on held-out identity folds."""
    # Missing evidence (no face, no sound, no background beside the face) becomes the
    # median plus an "is missing" column: the booster sees both, and a feature that a small
    # training fold never measured does not break the fit.
    base = Pipeline([
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
        # No class weights in the booster: the calibrator balances the classes (sample weights),
        # and class_weight="balanced" makes scikit-learn 1.9's booster fit about 7x slower.
        ("boost", HistGradientBoostingClassifier(max_iter=max_iter, learning_rate=0.06, max_leaf_nodes=15,
                                                 min_samples_leaf=min_samples_leaf, l2_regularization=1.0,
                                                 random_state=seed))])
    if groups is not None and X is not None:
        per_class = min(len(np.unique(groups[y == c])) for c in (0, 1))
        k = max(2, min(cv, per_class))
        splits = list(StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(X, y, groups))
        return CalibratedClassifierCV(base, method="sigmoid", cv=splits)
    return CalibratedClassifierCV(base, method="sigmoid", cv=cv)


@dataclass
class Detector:
    classifier: CalibratedClassifierCV
    reference: np.ndarray            # per-feature median of real windows (explanations)
    spread: np.ndarray               # per-feature IQR of real windows
    thresholds: dict = field(default_factory=dict)   # {"suspicious": t1, "likely_generated": t2}
    version: str = "untrained"
    feature_version: str = FEATURE_VERSION
    feature_names: list = field(default_factory=lambda: list(FEATURE_NAMES))
    card: dict = field(default_factory=lambda: model_card(None))   # trained_on and measured rates

    def model_rows(self, X: np.ndarray) -> np.ndarray:
        """The columns this model reads, from full feature rows (FEATURE_NAMES); rows that are
        not full rows are taken as they are."""
        X = np.asarray(X, np.float32)
        if X.shape[1] != len(FEATURE_NAMES) or len(self.feature_names) == X.shape[1]:
            return X
        return X[:, columns_of(self.feature_names)]

    def window_scores(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability per window, from full feature rows."""
        return self._scores(self.model_rows(X))

    def _scores(self, Xm: np.ndarray) -> np.ndarray:
        return self.classifier.predict_proba(np.asarray(Xm, np.float32))[:, 1]

    def label_key(self, score: float) -> str:
        return label_key(score, self.thresholds)

    def label(self, score: float) -> str:
        """"No sign of generation found", "Suspicious" or "Likely generated" (English; the
        platform translates them)."""
        return LABEL_TEXT[self.label_key(score)]

    def cues(self, X: np.ndarray, top: int = 4) -> list[dict]:
        """The cue groups that weighed most, in words: on the clip's median window, all of a
        group's features set at once to their typical value in real videos; how much the
        score moves is the group's effect (one batch of n_groups + 1 rows)."""
        X = self.model_rows(X)
        with np.errstate(all="ignore"):
            med = np.nanmedian(X, axis=0)
        groups = [feature_group(n) for n in self.feature_names]
        names = sorted(set(groups))
        probe = np.repeat(med[None], len(names) + 1, axis=0)
        for k, g in enumerate(names):
            cols = [j for j, gj in enumerate(groups) if gj == g]
            probe[k, cols] = self.reference[cols]
        scores = self._scores(probe)
        effect = scores[-1] - scores[:-1]
        order = [k for k in np.argsort(-np.abs(effect)) if abs(effect[k]) >= 0.005][:top]
        return [cue(names[k], effect[k]) for k in order]

    def explain(self, X: np.ndarray, top: int = 6) -> list[dict]:
        """The features that weighed most for this clip: on the clip's median window, each
        feature in turn set to its typical value in real videos; how much the score moves
        says how much it counted (one batch of n_features + 1 rows: cheap)."""
        X = self.model_rows(X)
        with np.errstate(all="ignore"):
            med = np.nanmedian(X, axis=0)
        n = X.shape[1]
        probe = np.repeat(med[None], n + 1, axis=0)
        probe[np.arange(n), np.arange(n)] = self.reference
        scores = self._scores(probe)
        effect = scores[n] - scores[:n]
        order = np.argsort(-np.abs(effect))[:top]
        out = []
        for j in order:
            z = (med[j] - self.reference[j]) / (self.spread[j] + 1e-9) if np.isfinite(med[j]) else None
            out.append({"feature": self.feature_names[j], "group": feature_group(self.feature_names[j]),
                        "value": _num(med[j]), "typical_real": _num(self.reference[j]), "deviation_iqr": _num(z),
                        "effect": round(float(effect[j]), 4), "pushes": "generated" if effect[j] > 0 else "real"})
        return out


def _num(v):
    return None if v is None or not np.isfinite(v) else round(float(v), 4)


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """Each class weighs the same in total: the calibrated probability then answers for an
    even prior, not for the mix of our training set (many more generated windows)."""
    y = np.asarray(y)
    w = np.ones(len(y), np.float64)
    for c in (0, 1):
        n = (y == c).sum()
        if n:
            w[y == c] = len(y) / (2.0 * n)
    return w


def video_weights(y: np.ndarray, videos: np.ndarray) -> np.ndarray:
    """Each video (a clip in one variant) weighs the same, and each class the same in total:
    a two-minute interview's 120 windows no longer outweigh a dozen ten-second generations,
    so the booster learns what sets videos apart, not what sets the longest ones apart."""
    y = np.asarray(y)
    _, inv, cnt = np.unique(np.asarray(videos), return_inverse=True, return_counts=True)
    w = 1.0 / cnt[inv]
    for c in (0, 1):
        m = y == c
        if m.any():
            w[m] *= len(y) / (2.0 * w[m].sum())
    return w


def fit_calibrated(clf: CalibratedClassifierCV, X: np.ndarray, y: np.ndarray,
                   videos: np.ndarray | None = None) -> CalibratedClassifierCV:
    """Fit with both classes weighing the same in the calibration. Without `videos` the
    booster is fitted unweighted (sklearn warns that the pipeline takes no sample weight;
    that only shifts its raw scores, and the calibrator maps them to even-prior
    probabilities); with them, booster and calibrator both get `video_weights`."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Since Pipeline does not appear to accept sample_weight")
        if videos is None:
            return clf.fit(X, y, sample_weight=balanced_weights(y))
        w = video_weights(y, videos)
        return clf.fit(X, y, sample_weight=w, boost__sample_weight=w)


def fit_detector(X: np.ndarray, y: np.ndarray, groups: np.ndarray, *, version: str, thresholds: dict | None = None,
                 seed: int = 0, max_iter: int = 200, min_samples_leaf: int = 10,
                 videos: np.ndarray | None = None, features: list[str] | None = None) -> Detector:
    """A calibrated detector on feature rows `X`; with `features`, it reads only those
    columns of full rows (FEATURE_NAMES), or `X` already holds just them."""
    features = list(FEATURE_NAMES) if features is None else list(features)
    X = np.asarray(X, np.float32)
    if X.shape[1] == len(FEATURE_NAMES) and len(features) != X.shape[1]:
        X = X[:, columns_of(features)]
    clf = make_classifier(groups=groups, X=X, y=y, seed=seed, max_iter=max_iter, min_samples_leaf=min_samples_leaf)
    fit_calibrated(clf, X, y, videos)
    real = X[y == 0]
    with np.errstate(all="ignore"):
        ref = np.nanmedian(real, axis=0)
        q75, q25 = np.nanpercentile(real, 75, axis=0), np.nanpercentile(real, 25, axis=0)
    ref = np.where(np.isfinite(ref), ref, np.nan)
    return Detector(clf, ref.astype(np.float64), np.nan_to_num(q75 - q25, nan=1.0).astype(np.float64),
                    dict(thresholds or {"suspicious": 0.5, "likely_generated": 0.5}), version,
                    feature_names=features)


def thresholds_from_calibration(real_scores: np.ndarray, gen_scores: np.ndarray, *, likely_fpr: float = 0.01,
                                suspicious_fpr: float = 0.05) -> dict:
    """Two operating points read off the out-of-fold calibrated scores of real videos:
    at most `suspicious_fpr` of real videos reach Suspicious, at most `likely_fpr`
    reach Likely generated, which also needs a calibrated probability of at least 0.5."""
    real_scores = np.sort(np.asarray(real_scores, np.float64))
    gen_scores = np.asarray(gen_scores, np.float64)

    def at_fpr(f):
        k = int(np.floor(f * len(real_scores)))          # real videos allowed at or above
        t = real_scores[len(real_scores) - k - 1] if k < len(real_scores) else 0.0
        return float(np.nextafter(t, 1.0))               # strictly above the last excluded real score

    # Rounded up, never down: a threshold rounded below the last excluded real score would
    # let one more real video reach the label than the rule allows.
    t_syn = math.ceil(max(at_fpr(likely_fpr), 0.5) * 1e6) / 1e6
    t_sus = min(math.ceil(at_fpr(suspicious_fpr) * 1e6) / 1e6, t_syn)
    return {"suspicious": t_sus, "likely_generated": t_syn,
            "rule": f"suspicious: <= {suspicious_fpr:.0%} of real videos at or above (out-of-fold calibrated scores); "
                    f"likely generated: <= {likely_fpr:.0%} of real videos and probability >= 0.5",
            "real_videos": int(len(real_scores)), "generated_videos": int(len(gen_scores)),
            "tpr_at_suspicious": round(float((gen_scores >= t_sus).mean()), 4) if len(gen_scores) else None,
            "tpr_at_likely_generated": round(float((gen_scores >= t_syn).mean()), 4) if len(gen_scores) else None}


# ---------------------------------------------------------------- files

def save(detector: Detector, path: str | Path, manifest: dict | None = None) -> Path:

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle = {"classifier": detector.classifier, "reference": detector.reference, "spread": detector.spread,
              "thresholds": json.dumps(detector.thresholds), "version": detector.version,
              "feature_version": detector.feature_version, "feature_names": json.dumps(detector.feature_names)}
    tmp = path.with_suffix(".part")
    sio.dump(bundle, tmp)
    untrusted = set(sio.get_untrusted_types(file=tmp)) - set(TRUSTED_TYPES)
    if untrusted:
        tmp.unlink()
        raise ModelFileError(f"the model holds types outside the trusted list: {sorted(untrusted)}")
    tmp.replace(path)
    if manifest is not None:
        manifest = {**manifest, "model_file": path.name, "model_sha256": sha256_file(path)}
        path.with_suffix(".json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def load(path: str | Path = DEFAULT_MODEL) -> Detector:
    """Load a detector saved by `save`. Refuses anything that is not a skops file, and
    skops files holding types outside TRUSTED_TYPES (nothing is ever unpickled)."""

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no detector model at {path}; train one with `manage.py train_detector`")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path.name} is not a skops model file (refusing to load it; pickles are never loaded)")
    with zipfile.ZipFile(path) as z:
        if "schema.json" not in z.namelist():
            raise ModelFileError(f"{path.name} is a zip file but not a skops model (no schema.json)")
    try:
        untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
    except Exception as exc:
        raise ModelFileError(f"{path.name} could not be read as a skops model: {exc}") from exc
    if untrusted:
        raise ModelFileError(f"{path.name} holds types outside the trusted list: {sorted(untrusted)}")
    b = sio.load(path, trusted=TRUSTED_TYPES)
    if b.get("feature_version") != FEATURE_VERSION:
        raise ModelFileError(f"{path.name} was trained on features {b.get('feature_version')!r}; this code computes "
                             f"{FEATURE_VERSION!r}: retrain with `manage.py train_detector`")
    return Detector(b["classifier"], np.asarray(b["reference"]), np.asarray(b["spread"]), json.loads(b["thresholds"]),
                    b["version"], b["feature_version"], json.loads(b["feature_names"]), model_card(manifest_of(path)))


def manifest_of(path: str | Path = DEFAULT_MODEL) -> dict | None:
    p = Path(path).with_suffix(".json")
    return json.loads(p.read_text()) if p.exists() else None
