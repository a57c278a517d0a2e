"""Window features on real files: the shape of the contract, the traces they are meant
to catch (a voice-driven mouth, a still photo's frozen noise) and clear errors."""
import warnings

import av
import numpy as np
import pytest

from detection.features import FEATURE_NAMES, WINDOW_SECONDS, clip_features
from detection.laundering import ATTACKS, launder
from detection.score import timeline
from detection.video import VideoError, read_samples


def _features(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return clip_features(read_samples(path))


def _col(f, name):
    return f.X[:, FEATURE_NAMES.index(name)]


def test_windows_of_two_seconds_with_every_feature(generated_clips, real_clips):
    for path in generated_clips + real_clips:
        f = _features(path)
        assert f.X.shape[1] == len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
        assert len(f.X) >= int(f.duration - WINDOW_SECONDS) + 1
        assert np.all(np.diff(f.starts) > 0)
        # The face is found and most features are measured on these talking heads.
        assert np.nanmin(_col(f, "face_found_frac")) > 0.8
        assert np.isfinite(f.X).mean() > 0.8


def test_generated_mouth_follows_the_voice_more_than_a_camera_does(generated_clips, real_clips):
    # Mouth-opening speed against loudness change, frame by frame: a voice-driven rig moves
    # with the envelope; a real speaker's articulation leads and lags it.
    gen = np.concatenate([_col(_features(p), "av_corr_speed") for p in generated_clips])
    real = np.concatenate([_col(_features(p), "av_corr_speed") for p in real_clips])
    assert np.nanmedian(gen) > np.nanmedian(real) + 0.2


def test_background_noise_is_frozen_in_a_warped_photo(generated_clips, real_clips):
    gen = np.concatenate([_col(_features(p), "res_corr1_bg") for p in generated_clips])
    real = np.concatenate([_col(_features(p), "res_corr1_bg") for p in real_clips])
    assert np.nanmedian(gen) > 0.9 > np.nanmedian(real)


def test_analysis_rate_is_fixed_whatever_the_resolution(real_clips):
    s = read_samples(real_clips[0])
    assert s.frames.shape[1] == 256
    assert abs(len(s.frames) / s.duration - 12.5) < 0.5
    assert s.loudness_db is not None and len(s.loudness_db) == len(s.frames)


@pytest.mark.parametrize("attack", ATTACKS)
def test_laundering_keeps_a_scoreable_video_with_its_sound(generated_clips, tmp_path, attack):
    out = launder(generated_clips[0], tmp_path / f"{attack}.mp4", attack, seed=3)
    with av.open(str(out)) as c:
        w, h = c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height
        assert c.streams.audio, "the sound must survive laundering"
    assert (w, h) == {"down50": (128, 128), "crop10": (230, 230), "chain": (114, 114)}.get(attack, (256, 256))
    assert len(_features(out).X) >= 2


def test_timeline_has_one_score_per_second():
    starts = np.array([0.0, 1.0, 2.0])
    scores = np.array([0.1, 0.5, 0.9])
    tl = timeline(starts, scores, 4.0)
    assert [p["t"] for p in tl] == [0, 1, 2, 3]
    assert tl[0]["score"] == 0.1 and tl[1]["score"] == pytest.approx(0.3) and tl[3]["score"] == 0.9


def test_not_a_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_text("not a video at all")
    with pytest.raises(VideoError, match="not a readable video"):
        read_samples(bad)
    from tests.conftest import corpus_file
    with pytest.raises(VideoError, match="no video stream"):
        read_samples(corpus_file("audio/sr_english_en.wav"))


def test_a_mouth_at_the_frame_edge_is_measured_or_missing_never_an_error():
    """A laundered crop can leave the mouth half outside the frame (expressive_lp_d3 after
    the laundering chain once stopped the feature extraction)."""
    from detection.features import mouth_texture_tcorr
    rng = np.random.default_rng(0)
    f32 = rng.uniform(0, 255, (6, 64, 64)).astype(np.float32)
    lms = np.zeros((6, 68, 2), np.float32)
    mouth = np.array([[50, 58], [70, 58], [70, 72], [50, 72]], np.float32)   # right and below the frame
    lms[:, 48:68] = np.resize(mouth, (20, 2))
    edge = mouth_texture_tcorr(f32, lms, np.arange(6))   # raised an OpenCV error on an empty crop before
    assert np.isnan(edge) or -1 <= edge <= 1
    lms[:, 48:68] = np.resize(mouth - 20, (20, 2))   # inside: a number
    assert np.isfinite(mouth_texture_tcorr(f32, lms, np.arange(6)))
