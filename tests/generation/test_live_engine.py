"""The live engine as a library: the mouth looks at most 80 ms ahead, frames keep
time with the clock whatever the voice does (late, missing or sent in a burst),
every frame passes the pipeline's watermark stage, and the stream is fragmented MP4
that a decoder reads frame by frame."""
from __future__ import annotations

import io
import threading
import time

import av
import numpy as np
import pytest

from generation.audio import decode_audio
from generation.controls import Controls
from generation.encode import MarkedFrame
from generation.images import load_image_file
from generation.live.fmp4 import annexb_to_length_prefixed, samples
from generation.live.mouth import ANALYSIS_RATE, StreamingMouth, lookahead_seconds
from generation.live.session import LiveEngine


class Counting:
    """A marker that counts the frames it marks (and changes one pixel, so it is seen)."""

    def __init__(self):
        self.marked = 0

    def mark(self, rgb):
        self.marked += 1
        out = rgb.copy()
        out[0, 0] = (255, 0, 255)
        return out


@pytest.fixture(scope="module")
def speech16():
    from tests.conftest import corpus_file
    return decode_audio(corpus_file("audio/sr_english_en.wav"), sample_rate=ANALYSIS_RATE).mono


def test_lookahead_is_bounded_to_80_ms():
    assert lookahead_seconds(25) <= 0.080
    mouth = StreamingMouth(25)
    for i in (0, 10, 100):
        centre = (i + 0.5) / 25 * ANALYSIS_RATE
        assert (mouth.needed_samples(i) - centre) / ANALYSIS_RATE <= 0.080


def test_a_frame_does_not_depend_on_audio_past_its_lookahead(speech16):
    """Frames 0..i are the same whatever follows the audio frame i needed."""
    i = 40
    probe = StreamingMouth(25)
    need = probe.needed_samples(i)
    rng = np.random.default_rng(0)
    a = speech16[: need + 16000]
    b = np.concatenate([speech16[:need], rng.normal(0, 0.5, 16000).astype(np.float32)])
    outs = []
    for x in (a, b):
        m = StreamingMouth(25)
        got = []
        for k in range(0, len(x), 320):         # 20 ms chunks
            m.feed(x[k:k + 320])
            got += m.frames()
        outs.append(got[: i + 1])
    assert len(outs[0]) == len(outs[1]) == i + 1
    assert outs[0] == outs[1]


def test_the_mouth_opens_with_the_voice_and_rests_in_silence(speech16):
    x = np.concatenate([np.zeros(ANALYSIS_RATE, np.float32), speech16[:3 * ANALYSIS_RATE],
                        np.zeros(ANALYSIS_RATE, np.float32)])
    m = StreamingMouth(25)
    frames = []
    for k in range(0, len(x), 320):
        m.feed(x[k:k + 320])
        frames += m.frames()
    jaw = np.array([f.jaw for f in frames])
    assert jaw[:20].max() < 0.05 and frames[10].closure > 0.3          # lips together in the silence
    assert np.percentile(jaw[25:100], 90) > 0.3                          # open while speaking
    assert jaw[-10:].max() < 0.1                                         # closed again after it


def _engine(tmp_path, marker, **kw):
    from tests.conftest import corpus_file
    photo = load_image_file(corpus_file("photos/elizabeth_olsen.jpg"))
    got = []
    done = threading.Event()

    def output(kind, index, data):
        got.append((time.monotonic(), kind, index, data))
        if kind == "end":
            done.set()
    engine = LiveEngine(photo, marker=marker, recording=tmp_path / "rec.mp4", on_output=output,
                        controls=Controls(size=256), **kw)
    return engine, got, done


def test_frames_keep_time_without_any_voice_and_every_frame_is_marked(tmp_path):
    marker = Counting()
    engine, got, done = _engine(tmp_path, marker, input_rate=48_000)
    engine.start()
    time.sleep(1.6)
    engine.stop("stopped")
    assert done.wait(30)
    video = [g for g in got if g[1] == "video"]
    # silence filled in: 25 frame slots a second from the start (pictures, or slots skipped
    # when a busy machine falls behind), the idle face still moving
    assert 30 <= engine.frames + engine.dropped <= 42, (engine.frames, engine.dropped)
    assert len(video) >= 10
    # a frame that waited for the missing voice is not behind for want of CPU: its picture is
    # made, not skipped (skipping here froze the face for two slots in three)
    assert engine.frames > 2 * engine.dropped, (engine.frames, engine.dropped)
    assert engine.filled_seconds > 1.0 and engine.error is None
    assert marker.marked == engine.frames == len(video)            # every picture shown was marked
    assert engine.frames + engine.dropped >= video[-1][2] + 1       # and skipped slots are counted
    with av.open(str(tmp_path / "rec.mp4")) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == engine.frames
    assert tuple(frames[0].to_ndarray(format="rgb24")[0, 0]) != (0, 0, 0)   # the marker's pixel survived
    assert engine.poster is not None and tuple(engine.poster[0, 0]) == (255, 0, 255)


def test_a_voice_sent_in_a_burst_is_not_turned_into_a_burst_of_frames(tmp_path, speech16):
    engine, got, done = _engine(tmp_path, Counting(), input_rate=16_000)
    engine.start()
    pcm = (speech16[: int(1.5 * ANALYSIS_RATE)] * 32767).astype("<i2").tobytes()
    engine.feed(pcm)                         # 1.5 s of voice at once
    time.sleep(1.2)
    early = sum(1 for g in got if g[1] == "video")
    engine.stop("stopped")
    assert done.wait(30)
    # paced: after 1.2 s about 1.2 s of frames, not 1.5 s of them
    assert early <= 1.2 * 25 + 2, early
    arrivals = np.array([g[0] for g in got if g[1] == "video"])
    assert np.median(np.diff(arrivals)) > 0.03


def test_voice_far_ahead_of_the_clock_ends_the_session(tmp_path, speech16):
    engine, got, done = _engine(tmp_path, Counting(), input_rate=16_000)
    engine.start()
    engine.feed((np.tile(speech16, 2)[: 3 * ANALYSIS_RATE] * 32767).astype("<i2").tobytes())
    assert done.wait(30)
    assert engine.reason == "voice_too_fast"


def test_the_encoder_takes_only_marked_frames(tmp_path):
    from generation.live.stream import LiveEncoder
    enc = LiveEncoder(tmp_path / "r.mp4", size=64, fps=25)
    with pytest.raises(TypeError, match="watermark stage"):
        enc.video(np.zeros((64, 64, 3), np.uint8), 0)
    enc.abort()
    assert not (tmp_path / "r.mp4").exists()
    with pytest.raises(TypeError):
        MarkedFrame(np.zeros((64, 64, 3), np.uint8), object())


def test_the_stream_decodes_frame_by_frame(tmp_path):
    from generation.encode import WatermarkStage
    from generation.live.stream import LiveEncoder
    enc = LiveEncoder(tmp_path / "r.mp4", size=64, fps=25)
    stage = WatermarkStage(Counting())
    parts = [enc.video_init]
    for i in range(30):
        frag = enc.video(stage(np.full((64, 64, 3), 8 * i, np.uint8)), i)
        assert frag, f"frame {i} was held back"          # each frame's fragment comes out with it
        (t, data), = list(samples(frag))
        assert t == i * enc._ticks and data
        parts.append(frag)
    enc.close()
    with av.open(io.BytesIO(b"".join(parts))) as c:
        got = list(c.decode(video=0))
    assert len(got) == 30 and [round(float(f.time) * 25) for f in got] == list(range(30))


def test_annexb_to_length_prefixed():
    sps, pps, idr = b"\x67\x64\x00\x1e\xac", b"\x68\xee\x3c", b"\x65\x88\x84\x00\x00\x03\x00"
    annexb = b"\x00\x00\x00\x01" + sps + b"\x00\x00\x01" + pps + b"\x00\x00\x00\x01" + idr
    out = annexb_to_length_prefixed(annexb)
    assert out == b"".join(len(n).to_bytes(4, "big") + n for n in (sps, pps, idr))
    assert annexb_to_length_prefixed(out) == out
