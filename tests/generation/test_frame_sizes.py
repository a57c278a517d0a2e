"""Output frames of any declared aspect (`--size WxH`): 16:9 and 9:16 at 720p and
1080p besides the squares, framed from the photo where it has room and padded with a
blurred extension of its edges where it has not; the warp runs on a crop around the
head composited onto a static frame, and every frame still passes the watermark."""
import av
import cv2
import numpy as np
import pytest

from bench.media import CountingMarker
from generation.controls import SIZES, Controls, control, frame_size
from generation.errors import InvalidControl
from generation.face import analyse_face
from generation.framing import frame_portrait
from generation.images import load_image_file
from generation.pipeline import generate_video
from generation.rig import FramedRig
from tests.conftest import corpus_file

WIDE = ("1280x720", "720x1280", "1920x1080", "1080x1920")


def test_sizes_are_declared_once_and_read_loosely():
    assert set(WIDE) <= set(SIZES) and {"256x256", "512x512", "768x768"} <= set(SIZES)
    size = control("size")
    for loose, stored in ((512, "512x512"), ("384", "384x384"), ("1280 x 720", "1280x720"), ("720X1280", "720x1280"),
                          ((1920, 1080), "1920x1080")):
        assert size.clean(loose) == stored
        assert Controls(size=loose).size == stored
    c = Controls.from_mapping({"size": "1080x1920"})
    assert (c.width, c.height) == (1080, 1920) and c.as_dict()["size"] == "1080x1920"
    assert frame_size(256) == (256, 256)
    for bad in ("300", "1000x700", "wide", "12x", 720.5, True):
        with pytest.raises(InvalidControl) as err:
            Controls.from_mapping({"size": bad})
        assert err.value.field == "size"
    assert size.schema()["enum"] == list(SIZES)


@pytest.fixture(scope="module")
def olsen():
    rgb = load_image_file(corpus_file("photos/elizabeth_olsen.jpg"))   # 624 x 624: no room for 16:9
    return rgb, analyse_face(rgb)


def _detail(img: np.ndarray) -> float:
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(cv2.Laplacian(g, cv2.CV_32F)).mean())


@pytest.mark.parametrize("size", WIDE)
def test_wide_frames_keep_the_face_and_pad_with_a_blurred_extension(olsen, size):
    rgb, face = olsen
    w, h = frame_size(size)
    framed = frame_portrait(rgb, face, (w, h))
    assert framed.image.shape == (h, w, 3) and framed.padded
    lm = framed.landmarks
    assert lm[:, 0].min() > 0 and lm[:, 0].max() < w and lm[:, 1].min() > 0 and lm[:, 1].max() < h
    face_w = lm[16, 0] - lm[0, 0]
    assert 0.3 < face_w / min(w, h) < 0.6        # the face about as large as in a square frame
    # the padding is a soft continuation: far less detail than the photo itself
    far = framed.image[:, : w // 12] if w > h else framed.image[-h // 12:]
    assert _detail(far) < 0.35 * _detail(framed.image[int(lm[19, 1]):int(lm[8, 1]), int(lm[0, 0]):int(lm[16, 0])])
    # the face is still found where the landmarks say
    again = analyse_face(framed.image).landmarks
    assert np.abs(again - lm).mean() < 0.03 * face_w


def test_a_photo_with_room_is_framed_without_padding():
    rgb = load_image_file(corpus_file("photos/obama_1.jpg"))
    face = analyse_face(rgb)
    wide = np.pad(rgb, ((0, 0), (rgb.shape[1], rgb.shape[1]), (0, 0)), constant_values=128)   # room on both sides
    framed = frame_portrait(wide, analyse_face(wide), (1280, 720))
    assert not framed.padded
    assert frame_portrait(rgb, face, 512).image.shape == (512, 512, 3)


def test_the_warp_runs_on_the_head_only_and_composites_onto_a_static_frame(olsen):
    rgb, face = olsen
    framed = frame_portrait(rgb, face, (1920, 1080))
    rig = FramedRig(framed.image, framed.landmarks)
    x0, y0, x1, y1 = rig.box
    assert (x1 - x0) < 0.7 * 1920                      # a crop around the head, not the frame
    frame = rig.render({"jaw": 0.8, "yaw": 4.0, "pitch": 2.0, "roll": 2.0, "blink": 1.0})
    assert frame.shape == framed.image.shape
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(frame[outside], framed.image[outside])     # the static frame, untouched
    assert np.abs(frame[y0:y1, x0:x1].astype(int) - framed.image[y0:y1, x0:x1]).mean() > 1.0
    # the crop's own border is static too: no seam where it meets the frame
    ring = np.concatenate([frame[y0:y1, x0 + 1], frame[y0:y1, x1 - 2]]).astype(int)
    still = np.concatenate([framed.image[y0:y1, x0 + 1], framed.image[y0:y1, x1 - 2]]).astype(int)
    assert np.abs(ring - still).max() <= 2
    # a wider frame with the same face costs the same crop
    wider = FramedRig(np.pad(framed.image, ((0, 0), (200, 200), (0, 0)), mode="edge"),
                      framed.landmarks + np.float32([200, 0]))
    assert (wider.box[2] - wider.box[0], wider.box[3] - wider.box[1]) == (x1 - x0, y1 - y0)


@pytest.mark.parametrize("size", ["1280x720", "720x1280"])
def test_a_wide_video_end_to_end_is_watermarked_and_shows_the_face(tmp_path, portrait, short_speech, size):
    marker = CountingMarker()
    out = tmp_path / "wide.mp4"
    result = generate_video(portrait, short_speech, out, marker=marker, controls=Controls(size=size))
    w, h = frame_size(size)
    assert (result.width, result.height) == (w, h) and result.frames == marker.frames == 69
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (w, h)
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(v)]
    assert len(frames) == 69
    for f in frames[::17]:
        analyse_face(f)                                   # one face in every sampled frame
