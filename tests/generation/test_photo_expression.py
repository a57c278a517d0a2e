"""The photo's own expression (generation.expression) and rendering relative to a
neutral rest: a wide-open photo mouth is closed at rest and opens with the jaw; a
teeth-showing smile keeps the person's own teeth (the upper ones stay, the cavity
opens behind them); a closed mouth opens onto a painted interior with separate
teeth, darker towards the corners. Photos are frames of the corpus's real videos
(open-mouth and smiling moments, decoded with PyAV) and corpus portraits."""
import av
import cv2
import numpy as np
import pytest

from generation.expression import CLOSED, TEETH_SMILE, WIDE_OPEN, read_expression, teeth_mask
from generation.face import analyse_face
from generation.framing import frame_portrait
from generation.images import load_image_file
from generation.metrics.tracking import landmarks_of
from generation.rig import PortraitRig
from tests.conftest import corpus_file

REST = {"closure": 0.6}      # what the motion plan gives in silence


def _frame(video: str, index: int) -> np.ndarray:
    """Frame `index` of a corpus video, its shorter side scaled to 512 (as bench.expression_photos)."""
    with av.open(str(corpus_file(f"videos/{video}"))) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i == index:
                rgb = frame.to_ndarray(format="rgb24")
                s = 512 / min(rgb.shape[:2])
                return cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
    raise AssertionError(f"{video} has no frame {index}")


def _rig(rgb: np.ndarray) -> PortraitRig:
    framed = frame_portrait(rgb, analyse_face(rgb), 512)
    return PortraitRig(framed.image, framed.landmarks)


def _opening(rgb: np.ndarray) -> float:
    lm = landmarks_of(rgb)
    return float(np.mean(lm[[67, 66, 65], 1] - lm[[61, 62, 63], 1]) / np.linalg.norm(lm[45] - lm[36]))


@pytest.fixture(scope="module")
def wide_open():
    return _rig(_frame("expressive_lp_d10.mp4", 100))      # mid-word, mouth wide open, no teeth


@pytest.fixture(scope="module")
def teeth_smile():
    return _rig(load_image_file(corpus_file("photos/obama_1.jpg")))


@pytest.fixture(scope="module")
def closed():
    return _rig(load_image_file(corpus_file("photos/elizabeth_olsen.jpg")))


def test_the_photos_expression_is_read(wide_open, teeth_smile, closed):
    assert wide_open.kind == WIDE_OPEN and wide_open.expression.opening > 0.2
    assert teeth_smile.kind == TEETH_SMILE and teeth_smile.expression.teeth > 0.5
    assert closed.kind == CLOSED and closed.expression.opening < 0.03
    smile = _frame("expressive_lp_d12.mp4", 24)             # a laughing smile with teeth, from a real video
    assert read_expression(smile, analyse_face(smile).landmarks).kind == TEETH_SMILE


def test_a_wide_open_photo_mouth_rests_closed_and_opens_with_the_jaw(wide_open):
    photo = wide_open.expression.opening
    rest = _opening(wide_open.render(REST))
    assert rest <= 0.15 and rest < 0.5 * photo, (rest, photo)
    opened = [_opening(wide_open.render({"jaw": j})) for j in (0.25, 0.5, 1.0)]
    assert opened[0] < opened[1] < opened[2] and opened[2] > rest + 0.1, (rest, opened)
    # closed with the lips' own texture, not the dark interior: the photo's opening is lighter at rest
    lm = wide_open.lm
    x0, x1 = int(lm[61, 0]), int(lm[63, 0])
    y0, y1 = int(lm[[61, 62, 63], 1].max()) + 2, int(lm[[65, 66, 67], 1].min()) - 2
    luma = lambda im: float(cv2.cvtColor(im[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).mean())
    assert luma(wide_open.render(REST)) > luma(wide_open.image) + 10


def test_a_teeth_smile_keeps_the_persons_own_teeth(teeth_smile):
    rig = teeth_smile
    x0, y0, x1, y1 = rig.mouth_box
    rest = rig.render(REST)
    assert np.abs(rest[y0:y1, x0:x1].astype(int) - rig.image[y0:y1, x0:x1]).mean() < 1.0   # rests as the photo
    teeth, (tx0, ty0, tx1, ty1) = teeth_mask(rig.image, rig.lm)
    line = rig.lip_line[tx0:tx1][None, :]
    rows = np.arange(ty0, ty1)[:, None]
    upper = teeth & (rows < line - 2)                 # the upper teeth, above where the face tears open
    assert upper.sum() > 200
    opened = rig.render({"jaw": 0.8})
    moved = np.abs(opened[ty0:ty1, tx0:tx1].astype(int) - rig.image[ty0:ty1, tx0:tx1]).max(axis=2)
    assert np.median(moved[upper]) <= 2 and np.mean(moved[upper] > 20) < 0.05      # they stay with the upper jaw
    # the new opening behind them is dark: nothing tooth-coloured is painted
    gap = rig.render({"jaw": 0.8}).astype(int) - rest.astype(int)
    changed = np.abs(gap).max(axis=2)[y0:y1, x0:x1] > 40
    luma = cv2.cvtColor(opened, cv2.COLOR_RGB2GRAY)[y0:y1, x0:x1]
    tooth_luma = float(np.median(cv2.cvtColor(rig.image, cv2.COLOR_RGB2GRAY)[ty0:ty1, tx0:tx1][teeth]))
    assert changed.sum() > 300
    assert np.mean(luma[changed] > 0.8 * tooth_luma) < 0.1


def test_a_closed_mouth_opens_onto_separate_teeth_darker_at_the_corners(closed):
    rig = closed
    frame = rig.render({"jaw": 0.6})
    lm = rig.lm
    cx0, cx1 = int(lm[48, 0]), int(lm[54, 0])
    line = rig.lip_line
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(float)
    # a row just below the upper lip's edge runs across the upper teeth
    row = np.array([gray[int(line[x]) + 3, x] for x in range(cx0, cx1)])
    mid = row[len(row) // 2 - 10: len(row) // 2 + 10]
    n = len(row)
    sides = np.concatenate([row[int(0.12 * n):int(0.2 * n)], row[int(0.8 * n):int(0.88 * n)]])
    assert mid.mean() > sides.mean() + 15                     # darker towards the corners
    centre = row[int(0.2 * len(row)):int(0.8 * len(row))]
    # a seam: the lowest pixel within 3 on either side, more than 3 levels under the highest
    # pixel on each side (seams are 1-2 pixels wide; a plateau counts once)
    seams = sum(1 for i in range(3, len(centre) - 3)
                if centre[i] == centre[i - 3:i + 4].min() and centre[i] < centre[i - 1]
                and centre[i - 3:i].max() > centre[i] + 3 and centre[i + 1:i + 4].max() > centre[i] + 3)
    assert 5 <= seams <= 16                                   # separate teeth, not one band
    # the tongue follows the mouth's shape: higher for a spread vowel
    below = lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)[int(line[(cx0 + cx1) // 2]) + 6:
                                                             int(line[(cx0 + cx1) // 2]) + 14, (cx0 + cx1) // 2]
    assert not np.array_equal(below(rig.render({"jaw": 0.6, "spread": 1.0})), below(frame))
    assert np.array_equal(rig.render({"jaw": 0.6}), frame)   # the same shape, the same pixels: stable


@pytest.mark.parametrize("which", ["closed", "teeth_smile"])
def test_the_tear_opens_as_one_smooth_curve(which, request):
    """The tear's length down each column follows the lip's curve: no column-to-column
    jumps (they showed as vertical streaks in the interior and a serrated lower edge
    through which bits of the upper teeth went down with the jaw)."""
    rig = request.getfixturevalue(which)
    paint = np.float32([0, 255, 0])
    original = rig._interior
    rig._interior = lambda bx, below_top, gap, p: np.broadcast_to(paint, bx.shape + (3,))
    try:
        frames = [rig.render({"jaw": jaw}).astype(float) for jaw in (0.5, 1.0)]
    finally:
        rig._interior = original
    cx0, cx1 = int(rig.lm[48, 0]), int(rig.lm[54, 0])
    n = cx1 - cx0
    for jaw, im in zip((0.5, 1.0), frames):
        painted = np.clip((im[..., 1] - np.maximum(im[..., 0], im[..., 2])) / 255.0, 0, 1)
        length = painted[:, cx0 + n // 6: cx1 - n // 6].sum(axis=0)
        assert length.min() > 10 * jaw, (jaw, length.min())
        assert np.abs(np.diff(length, 2)).max() < 1.0, (jaw, np.round(np.diff(length, 2), 2))


def test_lower_teeth_show_in_the_middle_over_the_lower_lip_not_as_a_band():
    """A teeth smile that shows only its upper row (the lower teeth hidden behind the lower
    lip) shows their tips when the jaw opens, in the middle, coloured from the person's own
    teeth; a smile that shows both rows keeps its own lower teeth (nothing painted); a closed
    mouth shows lower teeth in the middle only, shorter towards the sides."""
    upper_only = _rig(load_image_file(corpus_file("photos/marissa_mayer.jpg")))
    both_rows = _rig(load_image_file(corpus_file("photos/donald_trump.jpg")))
    assert upper_only.kind == both_rows.kind == TEETH_SMILE
    assert upper_only.occlusal >= 0.95 > both_rows.occlusal
    p = {"jaw": 0.8, "spread": 0.0, "round": 0.0}

    def column(rig, c):
        """Down one column of the painted interior at `c` from the middle (0) to a corner (0.5):
        whether each pixel looks like a tooth (light and nearly colourless: the cavity and
        the tongue are dark or red)."""
        gap = np.float32(0.8 * rig.max_gap)
        below = np.arange(0.5, float(gap), 1.0, dtype=np.float32)[:, None]
        bx = np.full_like(below, rig._corners[0] + (0.5 + c) * rig._corners[1])
        rgb = rig._interior(bx, below, np.full_like(below, gap), p)[:, 0]
        chroma = (rgb.max(axis=1) - rgb.min(axis=1)) / np.maximum(rgb.max(axis=1), 1.0)
        return (rgb.mean(axis=1) > 90) & (chroma < 0.25)

    middle = column(upper_only, 0.0)
    assert middle[-2] and not middle[: len(middle) // 2].any()      # a tooth's tip just above the lower lip
    assert not column(upper_only, 0.42).any()                        # none in the corners
    assert not column(both_rows, 0.0).any()                          # own lower teeth: none painted
    closed_rig = _rig(load_image_file(corpus_file("photos/elizabeth_olsen.jpg")))
    lower_half = lambda col: col[len(col) // 2:]
    tips = [int(lower_half(column(closed_rig, c)).sum()) for c in (0.0, 0.2, 0.42)]
    assert tips[0] > tips[1] > tips[2] == 0, tips  # tallest in the middle, none at the corners


@pytest.mark.parametrize("video, index, most", [("expressive_lp_d12.mp4", 120, 0.1),
                                                ("expressive_lp_d18.mp4", 144, 0.25)])
def test_a_wide_open_mouth_shuts_at_its_sides_too(video, index, most):
    """dlib's inner-lip hexagon is narrower at the sides than a wide-open mouth (rounder,
    nearly square in a shout): shutting only the hexagon left a diamond of dark interior
    open at the sides (0.21 and 0.54 of the photo's dark pixels at rest on these frames)."""
    rig = _rig(_frame(video, index))
    lm = rig.lm
    x0, x1 = int(lm[48, 0]), int(lm[54, 0])
    y0, y1 = int(lm[[61, 62, 63], 1].min()), int(lm[[65, 66, 67], 1].max())
    skin_box = (slice(int(lm[29, 1]), int(lm[33, 1])), slice(int(lm[31, 0]), int(lm[35, 0])))

    def dark(im):
        lightness = cv2.cvtColor(im, cv2.COLOR_RGB2LAB)[..., 0].astype(float)
        return int((lightness[y0:y1, x0:x1] < 0.55 * np.median(lightness[skin_box])).sum())

    assert rig.kind == WIDE_OPEN
    photo, rest = dark(rig.image), dark(rig.render(REST))
    assert photo > 800 and rest < most * photo, (photo, rest)
