"""The first engine end to end: real frames, a mouth that moves with the voice,
and no way to encode a frame that skipped the watermark stage."""
import av
import numpy as np
import pytest

from bench.media import CountingMarker
from generation.audio import decode_audio, loudness_per_frame
from generation.controls import Controls
from generation.encode import MarkedFrame, Mp4Writer, WatermarkStage
from generation.errors import InvalidControl
from generation.face import analyse_face
from generation.pipeline import generate_video


def _mouth_gaps(path):
    """Inner-lip gap (pixels) per frame, measured by dlib on the output frames."""
    gaps = []
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            lm = analyse_face(frame.to_ndarray(format="rgb24")).landmarks
            gaps.append(float(np.mean(lm[[65, 66, 67], 1] - lm[[63, 62, 61], 1])))
    return np.array(gaps)


def test_video_has_frames_audio_and_a_mouth_that_follows_loudness(tmp_path, portrait, short_speech):
    marker = CountingMarker()
    out = tmp_path / "talk.mp4"
    result = generate_video(portrait, short_speech, out, marker=marker, controls=Controls(size=256, head_motion=0))
    audio = decode_audio(short_speech)
    assert result.frames == marker.frames == int(np.ceil(audio.duration * 25))
    with av.open(str(out)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert (v.codec_context.name, a.codec_context.name) == ("h264", "aac")
        assert (v.codec_context.width, v.codec_context.height) == (256, 256)
        assert float(v.average_rate) == 25
        assert abs(float(c.duration) / av.time_base - audio.duration) < 0.15
    gaps = _mouth_gaps(out)
    loud = loudness_per_frame(audio.mono, audio.sample_rate, 25)[: len(gaps)]
    assert gaps.max() - gaps.min() > 4            # the mouth really opens and closes
    assert np.corrcoef(gaps, loud)[0, 1] > 0.5    # ...with the voice


def test_same_seed_same_frames(tmp_path, portrait, short_speech):
    def frames(seed, name):
        generate_video(portrait, short_speech, tmp_path / name, marker=CountingMarker(),
                       controls=Controls(size=256, seed=seed))
        with av.open(str(tmp_path / name)) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    a, b, c = frames(7, "a.mp4"), frames(7, "b.mp4"), frames(8, "c.mp4")
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))


def test_writer_refuses_frames_that_skipped_the_watermark_stage(tmp_path, short_speech):
    writer = Mp4Writer(tmp_path / "x.mp4", width=64, height=64, fps=25, audio=decode_audio(short_speech))
    raw = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(TypeError, match="watermark stage"):
        writer.write(raw)
    with pytest.raises(TypeError):
        MarkedFrame(raw, object())  # only the stage can make marked frames
    writer.write(WatermarkStage(CountingMarker())(raw))
    writer.abort()
    assert not (tmp_path / "x.mp4").exists()


def test_pipeline_requires_a_marker(tmp_path, portrait, short_speech):
    with pytest.raises(TypeError):
        generate_video(portrait, short_speech, tmp_path / "x.mp4", marker=None)


@pytest.mark.parametrize("bad", [{"emotion": "ecstatic"}, {"head_motion": 5}, {"gaze": "2,0"}, {"size": 300},
                                 {"seed": -1}, {"volume": 3}])
def test_invalid_controls_are_named(bad):
    with pytest.raises(InvalidControl):
        Controls.from_mapping(bad)
