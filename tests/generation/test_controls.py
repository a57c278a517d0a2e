"""Every control moves the picture the way it says, measured on rendered frames
with dlib's landmarks (256 px, a 2.7 s English track)."""
import numpy as np
import pytest

from generation.controls import Controls
from generation.errors import InvalidControl
from generation.metrics import landmarks_of
from generation.motion import plan_motion

STABLE = [27, 30, 36, 39, 42, 45]


def _frames(rig, track, every=1):
    return [rig.render(track.frame(i)) for i in range(0, len(track), every)]


def test_head_motion_zero_keeps_the_head_still(rig256, heard):
    still = plan_motion(heard.features, Controls(size=256, head_motion=0), heard.phones)
    moving = plan_motion(heard.features, Controls(size=256, head_motion=2), heard.phones)
    for k in ("yaw", "pitch", "roll", "tx", "ty"):
        assert not getattr(still, k).any()
    assert (still.scale == 1).all()

    lm = rig256.lm.astype(int)
    nose = (slice(lm[28, 1], lm[30, 1]), slice(lm[31, 0], lm[35, 0] + 1))   # the nose, below the brows' reach

    def nose_change(track):
        """Mean absolute change of the nose's pixels from the photo, worst frame."""
        ref = rig256.image[nose].astype(float)
        return max(np.abs(f[nose].astype(float) - ref).mean() for f in _frames(rig256, track, every=3))

    def drift(track):
        pts = np.array([landmarks_of(f)[STABLE] for f in _frames(rig256, track, every=3)])
        return float(np.abs(pts - pts.mean(axis=0)).mean())
    assert nose_change(still) < 2.5 < 8.0 < nose_change(moving)    # grey levels; the rest is lips nearby
    assert drift(still) < 0.5 < 1.5 < drift(moving)                 # pixels


def test_happy_raises_the_mouth_corners(rig256):
    def corners(emotion):
        frame = plan_motion(_silence(50), Controls(size=256, emotion=emotion, head_motion=0)).frame(25)
        return landmarks_of(rig256.render({**frame, "blink": 0.0}))[[48, 54], 1]
    neutral, happy, sad = corners("neutral"), corners("happy"), corners("sad")
    assert (neutral - happy).mean() >= 1.5          # pixels up, at 256
    assert (sad - neutral).mean() >= 0.5            # and down for sad


def _iris_x(frame, lm):
    """Centroid (x) of the darkest third of each eye opening: the iris and pupil."""
    import cv2
    xs = []
    gray = frame.mean(axis=2)
    for idx in (range(36, 42), range(42, 48)):
        mask = np.zeros(frame.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(lm[list(idx)]).astype(np.int32)], 1)
        ys, xx = np.nonzero(mask)
        v = gray[ys, xx]
        dark = v <= np.percentile(v, 33)
        xs.append(xx[dark].mean())
    return float(np.mean(xs))


def test_gaze_moves_the_eyes(rig256):
    lm = landmarks_of(rig256.render({}))
    left = _iris_x(rig256.render({"gaze_x": -1.0}), lm)
    right = _iris_x(rig256.render({"gaze_x": 1.0}), lm)
    assert right - left > 1.0             # to the subject's left is the image's right


def _silence(n):
    from generation.voice import summarise
    rows = np.zeros((n, 6), np.float32)
    rows[:, 0] = -80
    return summarise(rows, 25)


def test_blink_rate_changes_the_blink_count(rig256):
    minute = _silence(25 * 60)

    def count(rate):
        b = plan_motion(minute, Controls(size=256, blink_rate=rate)).blink > 0.5
        return int(np.sum(b[1:] & ~b[:-1]))
    few, many = count(6), count(30)
    assert 3 <= few <= 10 and 20 <= many <= 40 and count(0) == 0


def test_eyelids_close(rig256):
    def ear(lm):
        p = lm[36:42]
        return (np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * np.linalg.norm(p[0] - p[3]))
    open_, shut = ear(landmarks_of(rig256.render({}))), ear(landmarks_of(rig256.render({"blink": 1.0})))
    assert shut < 0.7 * open_


def test_a_shut_lid_covers_the_eye(rig256):
    """At the peak of a blink the upper part of each eye opening is lid skin: the iris
    and sclera's light/dark spread there is gone (the lashes lie at the bottom)."""
    import cv2
    lm = rig256.lm

    def spread(img):
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        out = []
        for up, lo, (a, b) in (([37, 38], [41, 40], (36, 39)), ([43, 44], [47, 46], (42, 45))):
            w = lm[b, 0] - lm[a, 0]
            y0, y1 = lm[up, 1].mean(), lm[lo, 1].mean()
            box = g[int(y0 + 1):int(y0 + 0.6 * (y1 - y0)) + 1, int(lm[a, 0] + 0.2 * w):int(lm[b, 0] - 0.2 * w)]
            out.append(np.percentile(box, 95) - np.percentile(box, 5))
        return np.array(out)
    open_, shut = spread(rig256.render({})), spread(rig256.render({"blink": 1.0}))
    assert (open_ > 60).all() and (shut < 0.6 * open_).all()


def test_blinks_last_naturally_and_stay_shut_two_frames():
    from generation.motion import blinks
    b = blinks(25 * 120, 25, 15, np.random.default_rng(7))
    on = np.flatnonzero(np.diff(np.r_[0, (b > 0).astype(int), 0]))
    runs = [(s, e) for s, e in zip(on[::2], on[1::2]) if e < len(b)]   # not one cut off at the end
    assert 20 <= len(runs) <= 40
    for s, e in runs:
        assert 0.12 <= (e - s) / 25 <= 0.4                              # 120-400 ms from first to last moving frame
        assert (b[s:e] >= 0.999).sum() >= 2                             # shut for at least two whole frames


def test_expression_scale_zero_keeps_the_mouth_still(heard):
    track = plan_motion(heard.features, Controls(size=256, expression_scale=0), heard.phones)
    assert not track.jaw.any() and not track.spread.any() and not track.round.any()


def test_seed_reproduces_frames_exactly(rig256, heard):
    a = plan_motion(heard.features, Controls(size=256, seed=3), heard.phones)
    b = plan_motion(heard.features, Controls(size=256, seed=3), heard.phones)
    c = plan_motion(heard.features, Controls(size=256, seed=4), heard.phones)
    fa, fb, fc = (rig256.render(t.frame(30)) for t in (a, b, c))
    assert np.array_equal(fa, fb) and not np.array_equal(fa, fc)


def test_lipsync_control_is_validated():
    assert Controls.from_mapping({"lipsync": "acoustic"}).lipsync == "acoustic"
    with pytest.raises(InvalidControl, match="lipsync"):
        Controls.from_mapping({"lipsync": "telepathy"})
