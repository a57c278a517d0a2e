"""Laundering: what a file goes through when someone strips its provenance and passes it
on (re-encode, resize, crop, noise). Applied to both classes, for training and for the
evaluation, so the detector cannot win by telling pristine files from laundered ones.
The sound is carried over untouched (the audio-mouth features need it)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

ATTACKS = ("crf28", "down50", "crop10", "noise", "chain")


def transcode(src, dst, *, crf: int = 23, frame_fn=None, size_fn=None, start: float = 0.0,
              duration: float | None = None, fps: int | None = None, audio: bool = True) -> Path:
    """Re-encode `src` as H.264 at `crf` into `dst` (written whole under another name, then
    renamed): each frame through `frame_fn`, the size `size_fn(w, h)` (even), only
    [start, start + duration) seconds, frames dropped to `fps`. With `audio` and the
    whole clip at its own rate, the sound is carried over untouched; otherwise dropped.
    The one re-encoder of laundering here and of the benchmarks' attacks (bench.attacks)."""
    src, dst = Path(src), Path(dst)
    tmp = dst.with_name(dst.stem + ".part.mp4")
    with av.open(str(src)) as inp, av.open(str(tmp), "w", format="mp4") as out:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        src_rate = float(vin.average_rate or 25)
        rate = Fraction(fps) if fps else Fraction(int(round(src_rate * 1000)), 1000)
        w, h = vin.codec_context.width, vin.codec_context.height
        if size_fn:
            w, h = size_fn(w, h)
        w, h = w - w % 2, h - h % 2
        vout = out.add_stream("libx264", rate=rate, options={"crf": str(crf), "preset": "veryfast", "threads": "1"})
        vout.width, vout.height, vout.pix_fmt = w, h, "yuv420p"
        whole = start == 0 and duration is None and fps is None
        ain = inp.streams.audio[0] if audio and whole and inp.streams.audio else None
        aout = out.add_stream_from_template(ain) if ain is not None else None
        n = i = 0
        for packet in inp.demux(*(s for s in (vin, ain) if s is not None)):
            if packet.stream is ain:
                if packet.dts is None:
                    continue
                packet.stream = aout
                out.mux(packet)
                continue
            for frame in packet.decode():
                t, i = i / src_rate, i + 1
                if t < start or (duration is not None and t >= start + duration):
                    continue
                if fps and int((t - start) * fps) < n:
                    continue  # dropped to reach the lower rate
                img = frame.to_ndarray(format="rgb24")
                if frame_fn:
                    img = frame_fn(img)
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[:h, :w]), format="rgb24")
                vf.pts = n
                vf.time_base = 1 / rate
                for p in vout.encode(vf):
                    out.mux(p)
                n += 1
        for p in vout.encode():
            out.mux(p)
    tmp.replace(dst)
    return dst


def size_of(path) -> tuple[int, int]:
    """Width and height of the video's frames."""
    with av.open(str(path)) as c:
        cc = c.streams.video[0].codec_context
        return cc.width, cc.height


def launder(src, dst, attack: str, *, seed: int = 0, tmp_dir=None) -> Path:
    """Write `src` laundered by `attack` (one of ATTACKS) to `dst`."""
    src, dst = Path(src), Path(dst)
    rng = np.random.default_rng(seed)
    if attack == "crf28":
        return transcode(src, dst, crf=28)
    if attack == "down50":
        return transcode(src, dst, crf=23, size_fn=lambda w, h: (w // 2, h // 2),
                          frame_fn=lambda im: cv2.resize(im, (im.shape[1] // 2 // 2 * 2, im.shape[0] // 2 // 2 * 2),
                                                         interpolation=cv2.INTER_AREA))
    if attack == "crop10":
        w, h = size_of(src)
        cw, ch = int(w * 0.9), int(h * 0.9)
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        return transcode(src, dst, crf=23, size_fn=lambda w_, h_: (cw, ch),
                          frame_fn=lambda im: im[y0:y0 + ch, x0:x0 + cw])
    if attack == "noise":
        noise_rng = np.random.default_rng(seed + 1)

        def add_noise(im):
            n = noise_rng.normal(0, 4.0, im.shape[:2]).astype(np.float32)[..., None]
            return np.clip(im.astype(np.float32) + n, 0, 255).astype(np.uint8)
        return transcode(src, dst, crf=23, frame_fn=add_noise)
    if attack == "chain":
        # CRF 28, then 50% downscale and a 10% crop, re-encoded at CRF 28 again.
        mid = Path(tmp_dir or dst.parent) / (dst.stem + ".chain_a.mp4")
        transcode(src, mid, crf=28)
        w, h = size_of(mid)
        cw, ch = int(w * 0.9), int(h * 0.9)
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))

        def crop_down(im):
            im = im[y0:y0 + ch, x0:x0 + cw]
            return cv2.resize(im, (cw // 2 // 2 * 2, ch // 2 // 2 * 2), interpolation=cv2.INTER_AREA)
        try:
            return transcode(mid, dst, crf=28, size_fn=lambda w_, h_: (cw // 2, ch // 2), frame_fn=crop_down)
        finally:
            mid.unlink(missing_ok=True)
    raise ValueError(f"unknown laundering attack {attack!r}; one of {', '.join(ATTACKS)}")
