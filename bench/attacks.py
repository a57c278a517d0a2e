"""The transformations files suffer on their way round the internet, applied
with PyAV: re-encoding, resizing, cropping, brightness, excerpts, frame rate (all
through detection.laundering's re-encoder), and remuxing."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import av
import cv2
import numpy as np

from detection.laundering import size_of, transcode

# The benchmarks' attacks keep the picture only (the watermark is in the frames).
_transcode = partial(transcode, audio=False)


def reencode(src, dst, crf):
    return _transcode(src, dst, crf=crf)


def downscale(src, dst, factor=0.5, crf=23):
    return _transcode(src, dst, crf=crf,
                      size_fn=lambda w, h: (int(w * factor), int(h * factor)),
                      frame_fn=lambda im: cv2.resize(im, (int(im.shape[1] * factor) // 2 * 2,
                                                          int(im.shape[0] * factor) // 2 * 2),
                                                     interpolation=cv2.INTER_AREA))


def crop(src, dst, fraction=0.1, crf=23, seed=0):
    """Cut `fraction` of the width and height away (at a random offset); no rescale."""
    rng = np.random.default_rng(seed)
    w, h = size_of(src)
    cw, ch = int(w * (1 - fraction)) // 2 * 2, int(h * (1 - fraction)) // 2 * 2
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return _transcode(src, dst, crf=crf, size_fn=lambda w_, h_: (cw, ch),
                      frame_fn=lambda im: im[y0:y0 + ch, x0:x0 + cw])


def brightness(src, dst, factor, crf=23):
    return _transcode(src, dst, crf=crf,
                      frame_fn=lambda im: np.clip(im.astype(np.float32) * factor, 0, 255).astype(np.uint8))


def excerpt(src, dst, seconds=2.0, start=None, crf=23):
    with av.open(str(src)) as c:
        dur = float(c.duration or 0) / av.time_base
    start = max(0.0, (dur - seconds) / 2) if start is None else start
    return _transcode(src, dst, crf=crf, start=start, duration=seconds)


def frame_rate(src, dst, fps=15, crf=23):
    return _transcode(src, dst, crf=crf, fps=fps)


def chain(src, dst, tmp_dir):
    """CRF 28, then 50% downscale, then 10% crop."""
    tmp_dir = Path(tmp_dir)
    a = reencode(src, tmp_dir / "chain_a.mp4", 28)
    b = downscale(a, tmp_dir / "chain_b.mp4", 0.5, crf=28)
    return crop(b, dst, 0.1, crf=28)


def remux(src, dst, *, keep_metadata: bool = True):
    """Copy the streams' packets into a new MP4 without re-encoding (what `ffmpeg
    -i src -c copy dst` does): the pictures are untouched, the C2PA box is not
    carried over. keep_metadata=False also drops the container and stream
    metadata, as `ffmpeg -map_metadata -1 -c copy` does."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        if keep_metadata:
            out.metadata.update(inp.metadata)
        mapping = {}
        for s in inp.streams:
            if s.type in ("video", "audio"):
                o = out.add_stream_from_template(s)
                if keep_metadata:
                    o.metadata.update(s.metadata)
                mapping[s.index] = o
        for packet in inp.demux(*[inp.streams[i] for i in mapping]):
            if packet.dts is None:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
    return Path(dst)


def strip_metadata(src, dst):
    return remux(src, dst, keep_metadata=False)
