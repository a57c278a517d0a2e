"""Learned motion: features, the dlib motion tracks of the real videos, the
comparison measures, the model as the warp engine's motion source (controls
respected, deterministic by seed), and reproducible training."""
from __future__ import annotations

import json

import numpy as np
import pytest

from generation.controls import DEFAULT_MOTION, Controls
from generation.learned_motion import evaluate
from generation.learned_motion.dataset import CORPUS_VIDEOS, PARAMS, extract
from generation.learned_motion.features import FEATURE_DIM, frame_features, log_mel
from generation.learned_motion.source import WEIGHTS, LearnedMotion, load_model
from tests.conftest import corpus_file

SR = 16_000


def test_log_mel_tells_a_tone_from_silence():
    t = np.arange(SR) / SR
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    mel = log_mel(tone)
    assert mel.shape[1] == 40 and 100 <= mel.shape[0] <= 102      # 10 ms hop
    assert mel[:, 5:10].mean() > log_mel(np.zeros(SR))[:, 5:10].mean() + 10
    feats = frame_features(np.concatenate([np.zeros(SR // 2), tone[: SR // 2]]), 25)
    assert feats.shape == (25, FEATURE_DIM)
    assert feats[20:, -1].mean() > feats[:5, -1].mean() + 1      # the loudness channel rises with the tone


@pytest.fixture(scope="module")
def real_track(tmp_path_factory):
    return extract(corpus_file("videos/voxceleb2_00373.mp4"), cache_dir=tmp_path_factory.mktemp("tracks"))


def test_dlib_track_of_a_real_video(real_track):
    m = real_track.motion
    assert m.shape == (len(real_track), 7) and len(real_track) == 128 and real_track.valid.all()
    assert 0.0 <= m[:, 0].min() and m[:, 0].max() <= 1.0 and m[:, 0].std() > 0.05     # the mouth moves
    assert np.all(np.abs(np.median(m[:, 4:7], axis=0)) < 1.0)                          # pose about the clip median
    assert np.all(np.abs(m[:, 4:7]) < 45.0) and m[:, 4].std() > 1.0                   # a talking head turns
    assert real_track.audio.shape == (len(real_track), FEATURE_DIM)


def test_measures_are_zero_for_identical_motion_and_grow_with_difference(real_track):
    real = [real_track.motion]
    assert evaluate.distances(real, real) == {"blink": 0.0, "head_spectrum": 0.0, "lip_speed": 0.0}
    still = real_track.motion.copy()
    still[:, 4:7] *= 0.2
    still[:, 0] = np.convolve(still[:, 0], np.ones(9) / 9, mode="same")
    d = evaluate.distances(real, [still])
    assert d["head_spectrum"] > 0.5 and d["lip_speed"] > 0.2
    assert evaluate.blink_events(np.array([0, 0.6, 0.9, 0.2, 0, 0.7, 0])) == [2, 1]


def test_committed_weights_are_small_safetensors():
    assert WEIGHTS.is_file() and WEIGHTS.stat().st_size <= 20 * 1024 * 1024
    assert WEIGHTS.read_bytes()[8:9] == b"{"          # a safetensors header, not a pickle
    model, meta = load_model(WEIGHTS)
    assert model.n_params() > 100_000 and json.loads(meta["held_out"])


def _track(motion: LearnedMotion, seconds: float = 4.0, **controls):
    rng = np.random.default_rng(1)
    t = np.arange(int(SR * seconds)) / SR
    envelope = (np.sin(2 * np.pi * 2.5 * t) > 0).astype(float)         # syllable-like bursts
    voice = 0.2 * envelope * rng.standard_normal(len(t))
    return motion.plan_from_audio(voice.astype(np.float32), int(seconds * 25), Controls(**controls))


@pytest.fixture(scope="module")
def learned():
    return LearnedMotion()


def test_learned_track_is_deterministic_by_seed_and_in_engine_ranges(learned):
    a, b, c = _track(learned, seed=5), _track(learned, seed=5), _track(learned, seed=6)
    assert len(a) == 100 and set(PARAMS) <= set(a.frame(0))
    assert np.array_equal(a.yaw, b.yaw) and np.array_equal(a.jaw, b.jaw)
    assert not np.array_equal(a.yaw, c.yaw)
    assert 0.0 <= a.jaw.min() and a.jaw.max() <= 1.0 and 0.0 <= a.blink.min() and a.blink.max() <= 1.0


def test_learned_motion_follows_the_controls(learned):
    neutral, happy, sad = (_track(learned, emotion=e) for e in ("neutral", "happy", "sad"))
    assert happy.smile.mean() > neutral.smile.mean() + 0.1 > sad.smile.mean() + 0.2
    left, right = _track(learned, gaze=(0.8, 0.0)), _track(learned, gaze=(-0.8, 0.0))
    assert left.yaw.mean() > right.yaw.mean() + 3.0
    calm, lively = _track(learned, head_motion=0.3), _track(learned, head_motion=1.8)
    assert calm.yaw.std() < lively.yaw.std()
    still = _track(learned, head_motion=0.0, blink_rate=0.0)
    assert still.yaw.std() == 0.0 and still.blink.max() == 0.0
    assert _track(learned, expression_scale=0.0).jaw.max() == 0.0


def test_jaw_filter_calms_only_the_jaw_and_the_recorded_width_is_used(learned):
    from generation.learned_motion.source import smooth_jaw
    rng = np.random.default_rng(0)
    m = rng.uniform(0, 1, (200, 7)).astype(np.float32)
    assert smooth_jaw(m, 0.0) is m
    f = smooth_jaw(m, 0.5)
    assert np.array_equal(f[:, 1:], m[:, 1:])
    assert evaluate.lip_speeds([f]).mean() < 0.8 * evaluate.lip_speeds([m]).mean()
    assert learned.jaw_sigma == float(json.loads(learned.meta["jaw_smoothing"])) > 0


def test_head_filter_calms_only_the_head_and_keeps_the_asked_for_movement():
    from generation.learned_motion.attributes import head_intensity
    from generation.learned_motion.source import settle, smooth_head
    rng = np.random.default_rng(0)
    m = rng.normal(0, 3, (200, 7)).astype(np.float32)
    f = smooth_head(m)
    assert np.array_equal(f[:, :4], m[:, :4])
    flutter = lambda x: np.abs(np.diff(x[:, 4:7], 2, axis=0)).mean()      # noqa: E731
    assert flutter(f) < 0.1 * flutter(m)
    target = np.array([0.0, 0.0, 0.0, 0.0, 2.0], np.float32)
    settled = settle(m, target)
    assert flutter(settled) < 0.2 * flutter(m)
    assert head_intensity(settled[:50]) == pytest.approx(2.0, rel=0.35)    # calibrated after smoothing


@pytest.mark.slow
def test_generate_with_learned_motion_through_the_watermark_stage(tmp_path, portrait, short_speech):
    from generation.pipeline import generate_video
    from provenance.videomark import VideoWatermarker, read_video_watermark
    marker = VideoWatermarker(77)
    out = tmp_path / "learned.mp4"
    result = generate_video(portrait, short_speech, out, marker=marker, controls=Controls(size=256, motion="learned"))
    assert result.backend == "warp" and result.frames == 69
    assert read_video_watermark(out).payload == marker.payload


def test_tiny_training_reproduces_its_recorded_loss():
    from generation.learned_motion.training import TINY_NAMES, TINY_RUN, tiny_run
    for name in TINY_NAMES:
        corpus_file(f"videos/{name}.mp4")
    recorded = json.loads(TINY_RUN.read_text())
    run = tiny_run(seed=recorded["seed"])
    assert run["windows"] == recorded["windows"]
    assert run["final_loss"] == pytest.approx(recorded["final_loss"], rel=0.02)


def test_committed_weights_give_their_recorded_metrics_and_the_default_follows_them():
    """Re-evaluates the committed weights on the held-out real videos; the default
    motion is whichever source the evaluation finds closer to the real videos."""
    from generation.learned_motion.report import verdict
    from generation.learned_motion.training import check
    if not CORPUS_VIDEOS.is_dir():
        pytest.skip(f"corpus videos not found in {CORPUS_VIDEOS}")
    result = check()
    assert result["ok"], result
    assert verdict(result["evaluation"])["default"] == DEFAULT_MOTION


def test_warp_backend_with_learned_motion_keeps_the_procedural_lip_shapes(portrait, short_speech):
    from generation.audio import decode_audio
    from generation.backends import get_backend
    from generation.images import load_image_file
    from generation.motion import plan_motion
    backend = get_backend("warp", motion="learned")
    controls = Controls(size=256)
    analysis = backend.analyse(load_image_file(portrait), decode_audio(short_speech), controls)
    track = backend.motion(analysis, controls)
    heard = analysis.extra["voice"]
    procedural = plan_motion(heard.features, controls, heard.phones, controls.lipsync)
    assert len(track) == analysis.frames
    assert np.array_equal(track.spread, procedural.spread[:len(track)]) and track.spread.max() > 0
    assert not np.array_equal(track.jaw, procedural.jaw[:len(track)])      # the mouth opening is the model's


def test_jaw_weight_weighs_the_jaw_channel_in_the_loss():
    """`train_motion --jaw-weight` is the committed recipe (weight 1) with the jaw's
    error counted more: the same seed then gives a different, larger loss."""
    from generation.learned_motion.model import DiTConfig
    from generation.learned_motion.training import TINY_NAMES, TrainSettings, load_corpus, train
    for name in TINY_NAMES:
        corpus_file(f"videos/{name}.mp4")
    tracks = load_corpus(names=TINY_NAMES)
    losses = {}
    for w in (1.0, 3.0):
        _, info = train(tracks, TrainSettings(steps=5, batch=8, stride=8, jaw_weight=w), DiTConfig(width=32, depth=1))
        losses[w] = info["final_loss"]
    assert losses[3.0] > losses[1.0]
