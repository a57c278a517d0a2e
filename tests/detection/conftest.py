"""Small real inputs for the detector tests: two short generations made through the real
pipeline (watermarked) and two short real talking videos from the corpus, and their
window features, computed once per session."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.conftest import corpus_file


def _generate(tmp_dir, photo: str, audio: str, start: float, seconds: float, seed: int):
    from detection.corpus import TRAINING_REGISTRY_ID, write_wav_segment
    from generation.controls import Controls
    from generation.pipeline import generate_video
    from provenance.videomark import VideoWatermarker

    wav = tmp_dir / f"{seed}.wav"
    write_wav_segment(str(corpus_file(audio)), start, seconds, wav)
    out = tmp_dir / f"gen_{seed}.mp4"
    generate_video(corpus_file(photo), wav, out, marker=VideoWatermarker(TRAINING_REGISTRY_ID),
                   controls=Controls(size=256, seed=seed))
    return out


@pytest.fixture(scope="session")
def generated_clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("detector-gen")
    return [_generate(d, "photos/elizabeth_olsen.jpg", "audio/vctk_p240_en.mp3", 0.0, 4.0, 1),
            _generate(d, "photos/obama_1.jpg", "audio/sr_english_en.wav", 1.0, 4.0, 2)]


@pytest.fixture(scope="session")
def real_clips():
    return [corpus_file("videos/voxceleb2_00373.mp4"), corpus_file("videos/voxceleb2_00473.mp4")]


@pytest.fixture(scope="session")
def windows(generated_clips, real_clips):
    """(X, y, groups) over the four clips' windows: few, but real."""
    from detection.features import clip_features
    from detection.video import read_samples

    Xs, ys, gs = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for label, clips in ((1, generated_clips), (0, real_clips)):
            for i, p in enumerate(clips):
                f = clip_features(read_samples(p))
                Xs.append(f.X)
                ys.append(np.full(len(f.X), label))
                gs.append(np.full(len(f.X), f"{label}-{i}"))
    return np.concatenate(Xs), np.concatenate(ys), np.concatenate(gs)
