"""The quality metrics on known signals and on a real corpus video."""
import numpy as np
import pytest

from generation.metrics import audio_mouth_sync, blink_rate, mouth_at_rest, summarise_video, track_faces
from generation.metrics.figures import blinks_in
from generation.metrics.tracking import FaceTrack
from tests.conftest import corpus_file


def test_sync_finds_a_known_lag():
    rng = np.random.default_rng(0)
    loud = np.convolve(rng.normal(size=200), np.ones(4) / 4, mode="same")
    mouth = np.roll(loud, 2)                       # the mouth two samples (160 ms at 12.5 Hz) late
    r = audio_mouth_sync(mouth, loud, 12.5)
    assert r["lag_ms"] == 160.0 and r["correlation"] > 0.95
    assert audio_mouth_sync(loud, loud, 12.5)["lag_ms"] == 0.0


def test_mouth_at_rest_in_silence():
    voiced = np.array([1] * 10 + [0] * 8 + [1] * 10 + [0] * 8 + [1] * 10, bool)
    opening = np.where(voiced, 0.3, 0.0)
    assert mouth_at_rest(opening, voiced, 12.5)["share"] == 1.0
    chatter = opening.copy()
    chatter[30:34] = 0.3                           # mouth open in the second pause
    assert mouth_at_rest(chatter, voiced, 12.5)["share"] == 0.5


def _track_with_ear(ear):
    """A synthetic track whose eyes have the given aspect ratio per frame."""
    n = len(ear)
    lm = np.zeros((n, 68, 2), np.float32)
    for start in (36, 42):
        w = 30.0
        lm[:, start] = (start * 10, 100)
        lm[:, start + 3] = (start * 10 + w, 100)
        for up, lo in ((start + 1, start + 5), (start + 2, start + 4)):
            lm[:, up] = np.stack([np.full(n, start * 10 + 10), 100 - ear * w / 2], 1)
            lm[:, lo] = np.stack([np.full(n, start * 10 + 10), 100 + ear * w / 2], 1)
    return FaceTrack(fps=25, step=2, times=np.arange(n) / 12.5, landmarks=lm, found=np.ones(n, bool),
                     frames_total=2 * n)


def test_blinks_are_counted():
    ear = np.full(750, 0.3)                        # one minute at 12.5 Hz
    for t in range(20, 750, 60):                   # 13 blinks
        ear[t:t + 2] = 0.12
    ear += np.random.default_rng(1).normal(0, 0.005, len(ear))
    assert blink_rate(_track_with_ear(ear))["per_minute"] == pytest.approx(13, abs=0.5)


def _engine_blink(depth=0.27, n=7):
    """What dlib reads of one of the engine's blinks on narrow eyes, frame by frame at
    25 Hz: the lid down in two frames, shut for three, up in two (shut: 0.19 of an open 0.26)."""
    shape = np.array([0.45, 0.85, 1.0, 1.0, 1.0, 0.7, 0.3])[:n]
    return 1 - depth * shape


def _eyes_track(ear, fps=25.0):
    track = _track_with_ear(ear[::2])
    track.eyes, track.fps = np.asarray(ear, np.float64), fps
    return track


def test_a_narrow_eyed_blink_counts_and_a_squint_does_not():
    """A smile narrows the eyes for seconds: the open width drifts (0.23-0.29 here),
    and a blink on such eyes narrows them by a quarter, not to a slit. Counted against
    the running open width, on every frame; a 2-s squint, lone one-frame jumps of the
    landmarks and the drift are not blinks."""
    fps, rng = 25.0, np.random.default_rng(3)
    t = np.arange(int(30 * fps)) / fps
    ear = 0.26 + 0.03 * np.sin(2 * np.pi * t / 3.0) + rng.normal(0, 0.004, len(t))
    starts = [40, 160, 260, 400, 520, 610, 700]
    for s in starts:
        ear[s:s + 7] *= _engine_blink()
    ear[300:350] *= 0.7                              # a squint of two seconds
    ear[[90, 230, 470, 660]] *= 0.78                 # the landmarks jumping for one frame
    assert blink_rate(_eyes_track(ear))["blinks"] == len(starts)
    found = blinks_in(ear, fps)
    assert [a for a, _ in found] == pytest.approx(starts, abs=2)


def test_a_real_video_is_measured():
    track = track_faces(corpus_file("videos/voxceleb2_00373.mp4"), step=2, max_seconds=3, size=256)
    s = summarise_video(track)
    assert s["face_found_share"] > 0.9 and 0 < s["jitter_p50"] < 0.2
    assert set(s["head_range_deg"]) == {"yaw", "pitch", "roll"}


def test_every_frame_is_searched_for_a_face_when_asked(tmp_path):
    """Landmarks on every 2nd frame, but "a face in every frame" counts all of them:
    here a real video with three black frames spliced into its odd frames."""
    import av
    src = corpus_file("videos/voxceleb2_00373.mp4")
    out = tmp_path / "gaps.mp4"
    with av.open(str(src)) as c, av.open(str(out), "w") as o:
        stream = o.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 256, 256, "yuv420p"
        for i, frame in enumerate(c.decode(video=0)):
            if i >= 40:
                break
            rgb = frame.to_ndarray(format="rgb24", width=256, height=256)
            if i in (11, 21, 31):
                rgb = np.zeros_like(rgb)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                o.mux(packet)
        for packet in stream.encode():
            o.mux(packet)
    sampled = track_faces(out, step=2)
    searched = track_faces(out, step=2, every_frame_face=True)
    assert sampled.frames_with_face is None and sampled.found.all()          # the gaps fall between samples
    assert searched.frames_total == 40 and searched.frames_with_face == 37
    np.testing.assert_array_equal(searched.landmarks, sampled.landmarks)     # the figures are unchanged
