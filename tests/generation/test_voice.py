"""Voice analysis: per-frame features in blocks, voice activity, formants, English
phones and their mouth shapes."""
import numpy as np
import pytest

from generation.audio import AudioStream, decode_audio
from generation.phonemes import Phone
from generation.visemes import SHAPES, viseme_curves
from generation.voice import FeatureExtractor, analyse_voice, silent_stretches
from tests.conftest import corpus_file


def _features(mono, sr=16000, block=None):
    ex = FeatureExtractor(sr, 25)
    if block is None:
        ex.feed(mono)
    else:
        for i in range(0, len(mono), block):
            ex.feed(mono[i:i + block])
    return ex.finish()


def test_features_do_not_depend_on_the_block_size(short_speech):
    mono = decode_audio(short_speech).mono
    whole, blocks = _features(mono), _features(mono, block=7919)
    assert len(whole) == len(blocks) == int(np.ceil(len(mono) / 640))
    assert np.allclose(whole.level_db, blocks.level_db, atol=1e-3)
    assert np.allclose(whole.f1, blocks.f1, atol=1.0)


def _vowel(f1, f2, seconds=0.6, sr=16000, f0=120):
    """A pulse train through two resonators: a synthetic vowel with known formants."""
    n = int(seconds * sr)
    x = np.zeros(n)
    x[:: int(sr / f0)] = 1.0
    for f, bw in ((f1, 80), (f2, 100)):
        r = np.exp(-np.pi * bw / sr)
        a1, a2 = -2 * r * np.cos(2 * np.pi * f / sr), r * r
        y = np.zeros(n)
        for i in range(n):
            y[i] = x[i] - a1 * (y[i - 1] if i else 0) - a2 * (y[i - 2] if i > 1 else 0)
        x = y
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


@pytest.mark.parametrize("f1,f2", [(750, 1200), (350, 2100)])
def test_formants_of_a_synthetic_vowel(f1, f2):
    mono = np.concatenate([np.zeros(1600, np.float32), _vowel(f1, f2), np.zeros(1600, np.float32)])
    feats = _features(mono)
    mid = feats.voiced & (feats.f1 > 0)
    assert mid.sum() >= 8
    assert np.median(feats.f1[mid]) == pytest.approx(f1, rel=0.2)      # LPC leans to a harmonic
    assert np.median(feats.f2[mid]) == pytest.approx(f2, rel=0.15)
    assert np.median(feats.pitch[mid]) == pytest.approx(120, rel=0.1)


def test_voice_activity_finds_the_pauses(short_speech):
    stream = AudioStream(short_speech)
    heard = analyse_voice(stream.blocks(), sample_rate=16000, fps=25, phones=False)
    f = heard.features
    assert 0.3 < f.voiced.mean() < 0.95
    assert silent_stretches(f.voiced, 25, 0.2)                # the track has pauses
    assert f.loudness[f.voiced].mean() == pytest.approx(0.0, abs=0.5)   # normalised to its active level
    assert heard.seconds == pytest.approx(2.74, abs=0.05)


def test_english_phones_are_timed(short_speech):
    heard = analyse_voice(AudioStream(short_speech).blocks(), sample_rate=16000, fps=25, phones=True)
    phones = [p for p in heard.phones if p.label != "SIL"]
    assert len(phones) >= 8
    assert all(0 <= p.start < p.end <= heard.seconds + 0.05 for p in phones)


def test_visemes_close_the_lips_for_m_and_anticipate_it():
    phones = [Phone("AA", 0.0, 0.30), Phone("M", 0.30, 0.40), Phone("AA", 0.40, 0.70)]
    v = viseme_curves(phones, 18, 25)
    closure, opening = v[:, SHAPES.index("closure")], v[:, SHAPES.index("open")]
    m = int(0.35 * 25)
    assert closure[m] > 0.9 and opening[m] < 0.1
    assert closure[m - 2] > 0.1                     # 80 ms before the M the lips are already closing
    assert opening[2] > 0.8


def test_rounded_and_spread_vowels():
    v = viseme_curves([Phone("UW", 0.0, 0.4)], 10, 25)[5]
    w = viseme_curves([Phone("IY", 0.0, 0.4)], 10, 25)[5]
    f = viseme_curves([Phone("F", 0.0, 0.4)], 10, 25)[5]
    assert v[SHAPES.index("round")] > 0.9 and w[SHAPES.index("spread")] > 0.9 and f[SHAPES.index("tuck")] > 0.9


@pytest.mark.parametrize("name", ["audio/singing_song_example.mp3", "audio/sr_french_fr.wav"])
def test_other_voices_get_the_acoustic_path(name):
    from generation.controls import Controls
    from generation.motion import plan_motion
    heard = analyse_voice(AudioStream(corpus_file(name)).blocks(), sample_rate=16000, fps=25, phones=False)
    track = plan_motion(heard.features, Controls(lipsync="acoustic"))
    assert track.lipsync == "acoustic" and track.jaw.max() > 0.3
    assert (track.jaw[~heard.features.voiced] < 0.2).mean() > 0.8


def test_auto_lipsync_trusts_phones_less_for_song():
    from generation.motion import lipsync_weight, steady_pitch_share
    sung = analyse_voice(AudioStream(corpus_file("audio/singing_song_example.mp3")).blocks(), sample_rate=16000, fps=25)
    spoken = analyse_voice(AudioStream(corpus_file("audio/jfk_inaugural_en.flac")).blocks(), sample_rate=16000, fps=25)
    assert steady_pitch_share(sung.features) >= 0.25 > steady_pitch_share(spoken.features)
    assert lipsync_weight(sung.features, sung.phones, "auto")[0] < 0.5
    assert lipsync_weight(spoken.features, spoken.phones, "auto")[0] == 1.0
