"""Frames of a corpus video as RGB arrays, for the watermark tests."""
import av
import numpy as np

from tests.conftest import corpus_file


def corpus_frames(name: str, seconds: float) -> list[np.ndarray]:
    with av.open(str(corpus_file(name))) as c:
        stream = c.streams.video[0]
        n = int(seconds * float(stream.average_rate))
        out = []
        for frame in c.decode(stream):
            out.append(frame.to_ndarray(format="rgb24"))
            if len(out) >= n:
                break
    return out
