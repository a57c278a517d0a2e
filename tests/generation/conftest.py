"""A rig and a voice analysis shared by the engine tests (256 px, a short track)."""
import pytest

from generation.audio import AudioStream
from generation.face import analyse_face
from generation.framing import frame_portrait
from generation.images import load_image_file
from generation.rig import PortraitRig
from generation.voice import analyse_voice
from tests.conftest import corpus_file


@pytest.fixture(scope="module")
def rig256():
    rgb = load_image_file(corpus_file("photos/obama_1.jpg"))
    framed = frame_portrait(rgb, analyse_face(rgb), 256)
    return PortraitRig(framed.image, framed.landmarks)


@pytest.fixture(scope="module")
def heard():
    stream = AudioStream(corpus_file("audio/sr_english_en.wav"))
    return analyse_voice(stream.blocks(), sample_rate=stream.sample_rate, fps=25)
