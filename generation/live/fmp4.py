"""Fragmented MP4 for live video: one fragment (moof + mdat) per frame, written as
soon as the frame is encoded.

ffmpeg's mp4 muxer writes the initialisation segment (ftyp + moov with mvex). Its
fragments cannot be used live: it holds each sample until the next one arrives,
since it takes a sample's duration from the next timestamp, which would add a
frame (40 ms) to every frame's latency. A live frame's duration is known (one frame
period), so each fragment is written here, in the layout ffmpeg's `frag_every_frame
+default_base_moof` gives (ISO/IEC 14496-12: mfhd, tfhd with default-base-is-moof,
tfdt version 1, one trun sample with duration, size, flags and data offset)."""
from __future__ import annotations

import re
import struct

KEY_SAMPLE = 0x02000000          # sample_depends_on = 2: a sync sample
DEPENDENT_SAMPLE = 0x01010000    # depends on others, is_non_sync_sample
_START_CODE = re.compile(b"\x00\x00\x01")


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, payload start, box end) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, start + 8)[0], 16
        if size < header:
            return
        yield kind.decode("latin-1"), start + header, start + size
        start += size


def media_timescale(init: bytes) -> int:
    """The track's timescale, from the first mdhd of an initialisation segment."""
    j = init.find(b"mdhd")
    if j < 0:
        raise ValueError("no mdhd box in the initialisation segment")
    version = init[j + 4]
    return struct.unpack_from(">I", init, j + 8 + (16 if version == 1 else 8))[0]


def track_id(init: bytes) -> int:
    j = init.find(b"tkhd")
    version = init[j + 4]
    return struct.unpack_from(">I", init, j + 8 + (16 if version == 1 else 8))[0]


def annexb_to_length_prefixed(data: bytes) -> bytes:
    """H.264 NAL units from start codes (x264's output) to 4-byte lengths (MP4 samples)."""
    if not data.startswith(b"\x00\x00\x01") and not data.startswith(b"\x00\x00\x00\x01"):
        return data                                    # already length-prefixed
    starts = [m.end() for m in _START_CODE.finditer(data)]
    out = []
    for k, s in enumerate(starts):
        e = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        nal = data[s:e]
        if k + 1 < len(starts) and nal.endswith(b"\x00"):   # the 4-byte start code's leading zero
            nal = nal[:-1]
        out.append(struct.pack(">I", len(nal)) + nal)
    return b"".join(out)


class FragmentWriter:
    """moof + mdat for one sample at a time, for the track of `init`."""

    def __init__(self, init: bytes):
        self.timescale, self.track = media_timescale(init), track_id(init)
        self.sequence = 0

    def fragment(self, sample: bytes, decode_time: int, duration: int, keyframe: bool) -> bytes:
        self.sequence += 1
        trun_flags = 0x000001 | 0x000100 | 0x000200 | 0x000400
        flags = KEY_SAMPLE if keyframe else DEPENDENT_SAMPLE

        def moof(offset: int) -> bytes:
            return box(b"moof",
                       full_box(b"mfhd", 0, 0, struct.pack(">I", self.sequence)),
                       box(b"traf",
                           full_box(b"tfhd", 0, 0x020000, struct.pack(">I", self.track)),
                           full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time)),
                           full_box(b"trun", 0, trun_flags, struct.pack(">IiIII", 1, offset, duration,
                                                                         len(sample), flags))))
        size = len(moof(0))
        return moof(size + 8) + box(b"mdat", sample)


def samples(fragments: bytes):
    """(decode time, sample bytes) of each moof/mdat pair with one sample: for clients
    that decode the stream themselves (bench.live)."""
    t = None
    for kind, a, b in boxes(fragments):
        if kind == "moof":
            tfdt = fragments.find(b"tfdt", a, b)
            version = fragments[tfdt + 4]
            t = struct.unpack_from(">Q" if version == 1 else ">I", fragments, tfdt + 8)[0]
        elif kind == "mdat" and t is not None:
            yield t, fragments[a:b]
