"""The transformations files suffer on their way round the internet, applied
with PyAV: re-encoding, resizing, cropping, brightness, excerpts, frame rate (all
through detection.laundering's re-encoder), and remuxing."""
from __future__ import annotations

from fractions import Fraction
from functools import partial
from pathlib import Path

import av
import cv2
import numpy as np

from bench.media import mux_frames
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


def two_generations(src, dst, *, crf1: int = 28, resize: float = 0.7, crf2: int = 28):
    """A repost of a repost: re-encoded, then resized and re-encoded again."""
    mid = Path(dst).with_suffix(".gen1.mp4")
    try:
        reencode(src, mid, crf1)
        return geometric(mid, dst, scale=(resize, resize), crf=crf2)
    finally:
        mid.unlink(missing_ok=True)


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


def geometric(src, dst, *, scale=(1.0, 1.0), rotate: float = 0.0, flip: bool = False, crop=None,
              pad_aspect: float | None = None, crf: int = 23, codec: str = "libx264"):
    """One pass of the geometric changes copies meet, in this order: horizontal flip,
    rotation about the centre (degrees, corners black, frame size kept), resize by
    (sx, sy), crop to the window (x0, y0, x1, y1) in fractions of the frame, padding
    with black bars to the aspect ratio W/H `pad_aspect`; then one encode."""

    def frame(im):
        if flip:
            im = im[:, ::-1]
        h, w = im.shape[:2]
        if rotate:
            m = cv2.getRotationMatrix2D((w / 2, h / 2), rotate, 1.0)
            im = cv2.warpAffine(np.ascontiguousarray(im), m, (w, h), flags=cv2.INTER_LINEAR)
        nw, nh = max(16, round(w * scale[0])), max(16, round(h * scale[1]))
        if (nw, nh) != (w, h):
            im = cv2.resize(np.ascontiguousarray(im), (nw, nh),
                            interpolation=cv2.INTER_AREA if nw * nh < w * h else cv2.INTER_LINEAR)
        if crop:
            x0, y0, x1, y1 = crop
            h, w = im.shape[:2]
            im = im[int(round(y0 * h)):int(round(y1 * h)), int(round(x0 * w)):int(round(x1 * w))]
        if pad_aspect:
            h, w = im.shape[:2]
            if w / h < pad_aspect:
                extra = int(round(h * pad_aspect)) - w
                im = cv2.copyMakeBorder(np.ascontiguousarray(im), 0, 0, extra // 2, extra - extra // 2,
                                        cv2.BORDER_CONSTANT)
            else:
                extra = int(round(w / pad_aspect)) - h
                im = cv2.copyMakeBorder(np.ascontiguousarray(im), extra // 2, extra - extra // 2, 0, 0,
                                        cv2.BORDER_CONSTANT)
        return im

    with av.open(str(src)) as c:
        s = c.streams.video[0]
        first = next(c.decode(s)).to_ndarray(format="rgb24")
    oh, ow = frame(first).shape[:2]
    return _transcode(Path(src), Path(dst), crf=crf, size_fn=lambda w, h: (ow, oh), frame_fn=frame)


def colour(src, dst, *, brightness: float = 1.0, contrast: float = 1.0, saturation: float = 1.0,
           gamma: float = 1.0, crf: int = 23):
    """Brightness (gain), contrast (about mid-grey), saturation (0 = grayscale) and gamma."""
    def frame(im):
        x = im.astype(np.float32) / 255.0
        x = np.clip(x * brightness, 0, 1)
        x = np.clip((x - 0.5) * contrast + 0.5, 0, 1)
        grey = x @ np.float32([0.299, 0.587, 0.114])
        x = np.clip(grey[..., None] + (x - grey[..., None]) * saturation, 0, 1)
        x = x ** (1.0 / gamma)
        return (x * 255 + 0.5).astype(np.uint8)
    return _transcode(Path(src), Path(dst), crf=crf, frame_fn=frame)


def retime(src, dst, fps: int, crf: int = 18):
    """Change the frame rate to `fps` (12-60) by dropping or repeating frames, as a
    platform's rendition does; the duration is kept."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        vin = inp.streams.video[0]
        src_rate = float(vin.average_rate or 25)
        frames = [f.to_ndarray(format="rgb24") for f in inp.decode(vin)]
        vout = out.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": "veryfast"})
        h, w = frames[0].shape[:2]
        vout.width, vout.height, vout.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        vout.time_base = Fraction(1, fps)
        n_out = max(1, int(round(len(frames) / src_rate * fps)))
        picks = (frames[min(len(frames) - 1, int(i * src_rate / fps))] for i in range(n_out))
        mux_frames(out, vout, (img[:vout.height, :vout.width] for img in picks))
    return Path(dst)


def reencode_with(src, dst, codec: str, crf: int):
    """Re-encode with another codec: libx264, libx265 or libvpx-vp9 (constant quality)."""
    if codec == "libx264":
        return reencode(src, dst, crf)
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        vin = inp.streams.video[0]
        rate = int(round(float(vin.average_rate or 25)))
        opts = ({"crf": str(crf), "preset": "ultrafast", "x265-params": "log-level=error"} if codec == "libx265"
                else {"crf": str(crf), "b": "0", "deadline": "realtime", "cpu-used": "8"})
        vout = out.add_stream(codec, rate=rate, options=opts)
        vout.width, vout.height = vin.codec_context.width // 2 * 2, vin.codec_context.height // 2 * 2
        vout.pix_fmt, vout.time_base = "yuv420p", Fraction(1, rate)
        mux_frames(out, vout, (f.to_ndarray(format="rgb24")[:vout.height, :vout.width] for f in inp.decode(vin)))
    return Path(dst)
