"""The video watermark: invisible (PSNR), read back from our own MP4, never read
from unmarked video."""
import av
import numpy as np
import pytest

from generation.controls import Controls
from generation.pipeline import generate_video
from provenance.videomark import VideoWatermarker, read_video_watermark
from tests.conftest import corpus_file


class PsnrProbe:
    def __init__(self, marker):
        self.marker, self.psnr = marker, []

    def mark(self, rgb):
        out = self.marker.mark(rgb)
        mse = np.mean((out.astype(np.float64) - rgb) ** 2)
        self.psnr.append(10 * np.log10(255 ** 2 / max(mse, 1e-12)))
        return out


@pytest.fixture(scope="module")
def marked_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("wm") / "marked.mp4"
    probe = PsnrProbe(VideoWatermarker(424242))
    generate_video(corpus_file("photos/obama_1.jpg"), corpus_file("audio/vctk_p240_en.mp3"), path, marker=probe,
                   controls=Controls(size=512))
    return path, probe.psnr


def test_marked_clip_decodes_exactly(marked_clip):
    path, psnr = marked_clip
    reading = read_video_watermark(path)
    assert reading.found and reading.registry_id == 424242
    assert reading.payload.startswith("00067932")
    assert min(psnr) > 40


@pytest.mark.parametrize("name", ["videos/voxceleb2_00015.mp4", "videos/hdtf_aoc.mp4",
                                  "videos/thb_real_plkvq0nbjus_4.mp4"])
def test_real_videos_carry_no_payload(name):
    reading = read_video_watermark(corpus_file(name))
    assert not reading.found and reading.registry_id is None


def test_unreadable_file_is_not_found(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"not a video")
    assert not read_video_watermark(bad).found


def test_unmarked_render_carries_no_payload(tmp_path):
    class Identity:
        def mark(self, rgb):
            return rgb
    path = tmp_path / "plain.mp4"
    generate_video(corpus_file("photos/elizabeth_olsen.jpg"), corpus_file("audio/sr_english_en.wav"), path,
                   marker=Identity(), controls=Controls(size=256))
    with av.open(str(path)) as c:
        assert c.streams.video[0].frames > 0
    assert not read_video_watermark(path).found
