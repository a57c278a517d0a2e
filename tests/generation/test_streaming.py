"""Long audio in constant memory: the voice is read in blocks, the encoder is fed as
frames arrive, and the output's audio matches the input."""
import av
import numpy as np
import pytest

from bench.media import CountingMarker
from generation.audio import AudioStream, decode_audio
from generation.encode import ConcurrentEncoder, Mp4Writer, WatermarkStage
from generation.errors import AudioTooLong, CorruptFile


def test_blocks_add_up_to_the_decoded_track(short_speech):
    whole = decode_audio(short_speech).mono
    stream = AudioStream(short_speech, block_seconds=0.5)
    blocks = list(stream.blocks())
    assert len(blocks) >= 5 and max(b.shape[1] for b in blocks) < 16000
    assert np.allclose(np.concatenate([b[0] for b in blocks]), whole, atol=1e-6)


def test_stream_errors_are_the_same_clear_errors(corrupt_audio, long_audio):
    with pytest.raises(CorruptFile):
        list(AudioStream(corrupt_audio).blocks())
    with pytest.raises(AudioTooLong, match="limit is 30 s"):
        AudioStream(long_audio, max_seconds=30)


def test_concurrent_encoder_writes_every_marked_frame_with_streamed_audio(tmp_path, short_speech):
    audio = AudioStream(short_speech, sample_rate=44_100, block_seconds=0.3)
    seconds = decode_audio(short_speech).duration
    frames = int(np.ceil(seconds * 25))
    writer = Mp4Writer(tmp_path / "s.mp4", width=64, height=64, fps=25, audio=audio, threads=1)
    stage = WatermarkStage(CountingMarker())
    sink = ConcurrentEncoder(stage, writer, depth=3)
    for i in range(frames):
        sink.put(np.full((64, 64, 3), i % 255, np.uint8))
    sink.finish()
    assert stage.frames == sink.written == frames
    with av.open(str(tmp_path / "s.mp4")) as c:
        assert c.streams.video[0].frames == frames
        got = sum(f.samples for f in c.decode(audio=0))
    assert got / 44_100 == pytest.approx(seconds, abs=0.05)


def test_frames_keep_their_colours_through_the_encoder(tmp_path, short_speech):
    """The writer converts RGB to I420 itself (OpenCV, BT.601 limited range, as swscale
    would): a decoded frame matches what was written, colours included."""
    y, x = np.mgrid[0:96, 0:128].astype(np.float32)
    rgb = np.dstack([x * 2, y * 2.6, 255 - x - y]).clip(0, 255).astype(np.uint8)
    writer = Mp4Writer(tmp_path / "c.mp4", width=128, height=96, fps=25, audio=AudioStream(short_speech), crf=12)
    stage = WatermarkStage(CountingMarker())
    for _ in range(3):
        writer.write(stage(rgb))
    writer.close()
    with av.open(str(tmp_path / "c.mp4")) as c:
        got = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert np.abs(got.astype(int) - rgb).mean(axis=(0, 1)).max() < 2.5


def test_encoder_errors_reach_the_producer(tmp_path, short_speech):
    class Broken:
        def mark(self, rgb):
            return rgb[:, :-1]           # wrong shape: the stage refuses it
    writer = Mp4Writer(tmp_path / "b.mp4", width=64, height=64, fps=25, audio=AudioStream(short_speech))
    sink = ConcurrentEncoder(WatermarkStage(Broken()), writer, depth=2)
    with pytest.raises(ValueError, match="shape"):
        for _ in range(50):
            sink.put(np.zeros((64, 64, 3), np.uint8))
        sink.finish()
    sink.abort()
    assert not (tmp_path / "b.mp4").exists()


def _transcode(src, dst, fmt, codec, rate):
    mono = decode_audio(src, sample_rate=rate).samples
    with av.open(str(dst), "w", format=fmt) as out:
        s = out.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(mono, format="fltp", layout="mono")
        frame.sample_rate = rate
        for fr in av.AudioResampler(format=s.codec_context.format.name, layout="mono", rate=rate).resample(frame):
            for p in s.encode(fr):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return dst


@pytest.mark.parametrize("fmt,codec,rate,ext", [("ipod", "aac", 44_100, "m4a"), ("ogg", "libopus", 48_000, "ogg")])
def test_m4a_and_ogg_stream(tmp_path, short_speech, fmt, codec, rate, ext):
    path = _transcode(short_speech, tmp_path / f"voice.{ext}", fmt, codec, rate)
    stream = AudioStream(path)
    seconds = sum(b.shape[1] for b in stream.blocks()) / 16000
    assert seconds == pytest.approx(decode_audio(short_speech).duration, abs=0.1)
