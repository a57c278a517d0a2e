"""The wire protocol of a live session (documented for API clients in the README).

Client -> server: text `{"type": "start", "sample_rate": 48000}` once, then binary
messages of voice (signed 16-bit little-endian mono PCM at that rate, 20 ms each is
usual), and text `{"type": "stop"}` to end. Server -> client: text `ready`, `status`
and `ended` objects, and binary media messages: a 5-byte header (kind, then the frame
index as a big-endian uint32) followed by fragmented MP4 bytes. Kinds: 1 video
initialisation segment, 2 video fragment, 3 audio initialisation segment, 4 audio
fragment; the video and audio streams go to two Media Source Extensions SourceBuffers."""
from __future__ import annotations

import struct

KINDS = {"video_init": 1, "video": 2, "audio_init": 3, "audio": 4}
HEADER = struct.Struct(">BI")
SAMPLE_RATES = (16_000, 48_000)
# WebSocket close codes (4000-4999 are the application's).
CLOSE = {"ended": 4000, "refused": 4403, "not_found": 4404, "not_ready": 4409, "busy": 4429, "error": 4500}


def media(kind: str, index: int, data: bytes) -> bytes:
    return HEADER.pack(KINDS[kind], index) + data


def parse_media(message: bytes) -> tuple[str, int, bytes]:
    kind, index = HEADER.unpack_from(message)
    names = {v: k for k, v in KINDS.items()}
    return names[kind], index, message[HEADER.size:]
