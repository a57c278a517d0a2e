"""The classifier: a tiny model trained on real windows, saved with skops and loaded
back identical; anything that is not a trusted skops file is refused; thresholds come
from the calibration scores."""
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from detection.model import (
    DEFAULT_MODEL,
    Detector,
    ModelFileError,
    load,
    manifest_of,
    save,
    thresholds_from_calibration,
)
from detection.score import score_file
from detection.train import train_tiny


@pytest.fixture(scope="module")
def tiny(windows):
    X, y, g = windows
    return train_tiny(X, y, g)


def test_tiny_model_separates_its_training_windows_with_calibrated_probabilities(tiny, windows):
    X, y, _ = windows
    p = tiny.window_scores(X)
    assert ((p >= 0) & (p <= 1)).all()
    assert p[y == 1].mean() > p[y == 0].mean()


def test_skops_round_trip_gives_the_same_scores(tiny, windows, tmp_path):
    X, _, _ = windows
    path = save(tiny, tmp_path / "d.skops", manifest={"version": tiny.version})
    assert zipfile.is_zipfile(path)
    back = load(path)
    assert isinstance(back, Detector) and back.version == "tiny-test"
    np.testing.assert_allclose(back.window_scores(X), tiny.window_scores(X))
    m = json.loads(path.with_suffix(".json").read_text())
    assert len(m["model_sha256"]) == 64


def test_a_pickle_is_refused_never_loaded(tmp_path, tiny):
    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps({"classifier": "anything"}))
    with pytest.raises(ModelFileError, match="not a skops model file"):
        load(path)
    z = tmp_path / "other.skops"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("data.pkl", pickle.dumps(1))
    with pytest.raises(ModelFileError, match="not a skops model"):
        load(z)
    with pytest.raises(ModelFileError, match="no detector model"):
        load(tmp_path / "missing.skops")


def test_a_skops_file_with_untrusted_types_is_refused(tmp_path):
    import skops.io as sio
    path = tmp_path / "evil.skops"
    sio.dump({"classifier": os.system, "feature_version": "x"}, path)
    with pytest.raises(ModelFileError, match="outside the trusted list"):
        load(path)


def test_thresholds_are_read_off_the_real_scores():
    rng = np.random.default_rng(0)
    real = rng.beta(1, 12, 400)
    gen = rng.beta(12, 1, 400)
    t = thresholds_from_calibration(real, gen)
    assert (real >= t["synthetic"]).mean() <= 0.01
    assert (real >= t["suspicious"]).mean() <= 0.05
    assert t["suspicious"] <= t["synthetic"] and t["synthetic"] >= 0.5
    assert t["tpr_at_synthetic"] > 0.9


def test_scoring_a_file_gives_the_detect_contract(tiny, generated_clips):
    r = score_file(generated_clips[0], tiny)
    assert set(r) >= {"score", "label", "model_version", "timeline", "top_features"}
    assert 0 <= r["score"] <= 1 and r["label"] in ("Authentic", "Suspicious", "Synthetic")
    assert len(r["timeline"]) == 4
    assert r["top_features"] and {"feature", "value", "typical_real", "effect"} <= set(r["top_features"][0])


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped detector model in detection/models")
def test_the_shipped_model_loads_with_its_manifest():
    d = load(DEFAULT_MODEL)
    m = manifest_of(DEFAULT_MODEL)
    assert m["version"] == d.version and m["feature_version"] == d.feature_version
    assert {"held_out", "laundered", "laundered_all", "by_engine"} <= set(m["evaluation"])
    assert d.thresholds["suspicious"] <= d.thresholds["synthetic"]
    assert all(len(c["sha256"]) == 64 for c in m["data"]["clips"])
