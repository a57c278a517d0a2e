"""A perceptual fingerprint of a video: 64-bit difference hashes of frames sampled
twice a second. It survives re-encoding, resizing, brightness changes, small crops
(the hash covers the central 80% of the frame), excerpts and frame-rate changes
(each query frame is matched to its nearest reference frame), and it separates
different pictures. The registry keeps one per output, so a watermark lifted off
one output and pasted onto other content is caught: the payload then points to an
output whose fingerprint does not match."""
from __future__ import annotations

import av
import cv2
import numpy as np

SAMPLES_PER_SECOND = 2.0
MAX_SAMPLES = 240
CENTRE = 0.8
MATCH_DISTANCE = 14     # median nearest-frame Hamming distance (of 64) accepted as the same content


def frame_hash(gray: np.ndarray) -> int:
    """dHash of the central 80%: 9x8 area-averaged thumbnail, sign of horizontal gradients."""
    h, w = gray.shape[:2]
    mh, mw = int(h * (1 - CENTRE) / 2), int(w * (1 - CENTRE) / 2)
    centre = gray[mh:h - mh, mw:w - mw]
    thumb = cv2.resize(cv2.GaussianBlur(centre, (0, 0), max(1.0, centre.shape[1] / 64)), (9, 8),
                       interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (thumb[:, 1:] > thumb[:, :-1]).ravel()
    return int(np.packbits(bits).view(">u8")[0])


def video_fingerprint(path) -> list[str]:
    """Hex frame hashes of up to MAX_SAMPLES frames taken SAMPLES_PER_SECOND apart
    (one hash for a still image)."""
    with av.open(str(path)) as c:
        if not c.streams.video:
            return []
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or 25)
        every = max(1, int(round(rate / SAMPLES_PER_SECOND)))
        w, h = stream.codec_context.width, stream.codec_context.height
        scale = min(1.0, 256 / max(w, h))
        out = []
        for i, frame in enumerate(c.decode(stream)):
            if i % every == 0:
                g = frame.reformat(width=max(16, round(w * scale)), height=max(16, round(h * scale)),
                                   format="gray").to_ndarray()
                out.append(f"{frame_hash(g):016x}")
                if len(out) >= MAX_SAMPLES:
                    break
    return out


def distance(query: list[str], reference: list[str]) -> float:
    """Median over query frames of the Hamming distance to the nearest reference
    frame (64 = nothing alike, about 32 for unrelated pictures)."""
    if not query or not reference:
        return 64.0
    q = np.array([int(x, 16) for x in query], dtype=np.uint64)
    r = np.array([int(x, 16) for x in reference], dtype=np.uint64)
    x = q[:, None] ^ r[None, :]
    bits = np.unpackbits(x.view(np.uint8).reshape(len(q), len(r), 8), axis=2).sum(axis=2)
    return float(np.median(bits.min(axis=1)))


def matches(query: list[str], reference: list[str]) -> bool:
    return distance(query, reference) <= MATCH_DISTANCE
