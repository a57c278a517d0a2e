"""Pooling a video's frames for the readers: every watermark reader and the registry's
alignment sum up to N frames spread evenly over the first video stream, reading what a
damaged stream gives before its error."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

# reader_for(stream) -> frame reader; the reader turns one decoded frame into an array to sum.
ReaderFor = Callable[[av.video.stream.VideoStream], Callable[[av.VideoFrame], np.ndarray]]


@dataclass
class Pool:
    """What a reader pooled: the sum of `frames` frames, and the sum of the `key_frames` key
    (intra-coded) frames among the frames decoded, read whether or not they fell on the
    even spread (None when none was seen)."""
    total: np.ndarray | None = None
    frames: int = 0
    key: np.ndarray | None = None
    key_frames: int = 0


MAX_KEY_FRAMES = 16


def pool_frames(path, max_frames: int, reader_for: ReaderFor) -> tuple[np.ndarray | None, int]:
    """(sum of the read frames, how many), or (None, 0) for a file with no readable video."""
    pool = pool_with_key_frames(path, max_frames, reader_for, max_key_frames=0)
    return pool.total, pool.frames


def pool_with_key_frames(path, max_frames: int, reader_for: ReaderFor, *,
                         max_key_frames: int = MAX_KEY_FRAMES) -> Pool:
    """Up to `max_frames` frames spread evenly over the first video stream, and up to
    `max_key_frames` of its key frames met on the way (an empty Pool for a file with no
    readable video)."""
    pool = Pool()
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError):
        return pool
    with container:
        if not container.streams.video:
            return pool
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        read = reader_for(stream)
        count = stream.frames or 0
        step = max(1, -(-count // max_frames)) if count else 1
        try:
            for i, frame in enumerate(container.decode(stream)):
                spread = i % step == 0
                key = pool.key_frames < max_key_frames and frame.key_frame
                if not (spread or key):
                    continue
                x = read(frame)
                if key:
                    pool.key = x if pool.key is None else pool.key + x   # sums make new arrays: no aliasing
                    pool.key_frames += 1
                if spread:
                    pool.total = x if pool.total is None else pool.total + x
                    pool.frames += 1
                    if pool.frames >= max_frames:
                        break
        except av.error.FFmpegError:
            pass  # a damaged stream: pool what was read
    return pool
