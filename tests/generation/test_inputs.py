"""Photo and voice-track decoding: real corpus files pass, bad ones get a clear,
specific error."""
import pytest

from generation.audio import decode_audio, loudness_per_frame
from generation.errors import AudioTooLong, CorruptFile, ImageTooLarge, MultipleFaces, NoFaceFound, UnsupportedFormat
from generation.face import analyse_face, detect_faces
from generation.images import load_image, load_image_file, sniff_image
from tests.conftest import corpus_file


@pytest.mark.parametrize("name", ["photos/obama_1.jpg", "photos/albert_einstein_bw.jpg",
                                  "photos/man_curly_glasses.jpg", "photos/alex_lacamoire.png",
                                  "generated/sd_portrait_art18.png"])
def test_one_face_with_68_landmarks(name):
    rgb = load_image_file(corpus_file(name))
    face = analyse_face(rgb)
    assert face.landmarks.shape == (68, 2)
    lm = face.landmarks
    # anatomy sanity: eyes above the nose tip, nose above the mouth, mouth above the chin
    assert lm[36:48, 1].mean() < lm[30, 1] < lm[48:68, 1].mean() < lm[8, 1]
    assert face.box.left <= lm[30, 0] <= face.box.right


def test_two_faces_are_reported(two_faces_png):
    rgb = load_image_file(two_faces_png)
    assert len(detect_faces(rgb)) == 2
    with pytest.raises(MultipleFaces, match="2 faces"):
        analyse_face(rgb)


def test_no_face(no_face_png):
    with pytest.raises(NoFaceFound, match="no face"):
        analyse_face(load_image_file(no_face_png))


def test_non_image_is_unsupported(text_file):
    with pytest.raises(UnsupportedFormat):
        load_image(text_file.read_bytes())


def test_truncated_image_is_corrupt():
    data = corpus_file("photos/obama_1.jpg").read_bytes()
    with pytest.raises(CorruptFile):
        load_image(data[: len(data) // 3])


def test_decompression_bomb_refused_from_the_header():
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (12000, 12000)).save(buf, format="PNG", optimize=True)
    with pytest.raises(ImageTooLarge):
        sniff_image(buf.getvalue(), max_pixels=40_000_000)


@pytest.mark.parametrize("name,seconds", [("audio/sr_english_en.wav", 2.74), ("audio/vctk_p240_en.mp3", 4.99),
                                          ("audio/librispeech_1034_en.flac", 7.88)])
def test_common_formats_decode_to_16k_mono(name, seconds):
    audio = decode_audio(corpus_file(name))
    assert audio.sample_rate == 16000 and audio.samples.shape[0] == 1
    assert audio.duration == pytest.approx(seconds, abs=0.08)
    assert 0.001 < abs(audio.samples).max() <= 1.0


def test_loudness_has_one_value_per_frame_and_follows_speech(short_speech):
    audio = decode_audio(short_speech)
    loud = loudness_per_frame(audio.mono, audio.sample_rate, 25)
    assert len(loud) == int(-(-audio.duration * 25 // 1))
    assert loud.max() - loud.min() > 20  # speech against pauses: tens of dB apart


def test_corrupt_audio(corrupt_audio):
    with pytest.raises(CorruptFile):
        decode_audio(corrupt_audio)


def test_image_given_as_audio_is_unsupported(portrait):
    with pytest.raises(UnsupportedFormat):
        decode_audio(portrait)


def test_audio_over_the_limit(long_audio):
    with pytest.raises(AudioTooLong, match="limit is 30 s"):
        decode_audio(long_audio, max_seconds=30)


def test_input_error_messages_render_through_the_installed_translator():
    """Messages are templates rendered when read, in the translator's language; a broken
    translation falls back to English, and str() stays English (logs)."""
    from common.errors import set_translator
    from generation import errors
    english = "the photo shows 2 faces; it must show exactly one person"
    e = errors.MultipleFaces(errors.gettext_noop("the photo shows %(n)d faces; it must show exactly one person"),
                             params={"n": 2}, field="photo")
    old = set_translator(errors.gettext_noop)
    try:
        assert e.message == english == str(e) and e.as_dict() == {"code": "multiple_faces", "field": "photo",
                                                                    "message": english}
        set_translator(lambda t: "la photo montre %(n)d visages" if t.startswith("the photo shows") else t)
        assert e.message == "la photo montre 2 visages" and str(e) == english
        set_translator(lambda t: "cassé %(missing)s")
        assert e.message == english
    finally:
        set_translator(old)
