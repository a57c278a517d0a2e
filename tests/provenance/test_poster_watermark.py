"""The signed poster (the first marked frame of a real talking head, plus the still
watermark) is traced after a JPEG re-save at quality 60-95, a resize, and both (below 256 x
256, where invisible-watermark reads nothing, by the video codec's pattern alone); a photo
that was never marked carries nothing."""
import cv2
import pytest

from provenance.stillmark import mark_still
from provenance.verify import read_watermark
from provenance.videomark import VideoWatermarker
from tests.provenance.corpus_frames import corpus_frames

REGISTRY_ID = 515151


@pytest.fixture(scope="module")
def poster():
    frame = corpus_frames("videos/thb_real_sak2kobsimy_5.mp4", 0.2)[0]
    return frame, mark_still(VideoWatermarker(REGISTRY_ID).mark(frame), REGISTRY_ID)


def _save(rgb, path, quality=None, scale=1.0):
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if scale != 1.0:
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if quality is None:
        cv2.imwrite(str(path), bgr)
    else:
        cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return path


@pytest.mark.parametrize("quality,scale", [(None, 1.0), (95, 1.0), (75, 1.0), (60, 1.0), (None, 0.5), (None, 0.75),
                                           (None, 1.5), (60, 0.6), (80, 1.3), (65, 0.47)])   # 0.47: 240 px
def test_poster_survives_jpeg_and_resize(poster, tmp_path, quality, scale):
    _, marked = poster
    path = _save(marked, tmp_path / ("p.png" if quality is None else "p.jpg"), quality, scale)
    reading = read_watermark(path)
    assert reading.found and reading.registry_id == REGISTRY_ID, (quality, scale, reading)


def test_unmarked_photo_carries_nothing(poster, tmp_path):
    plain, _ = poster
    assert not read_watermark(_save(plain, tmp_path / "plain.jpg", 75)).found
