"""Pooling a video's frames for the readers: every watermark reader and the registry's
alignment sum up to N frames spread evenly over the first video stream, reading what a
damaged stream gives before its error."""
from __future__ import annotations

from collections.abc import Callable

import av
import numpy as np

# reader_for(stream) -> frame reader; the reader turns one decoded frame into an array to sum.
ReaderFor = Callable[[av.video.stream.VideoStream], Callable[[av.VideoFrame], np.ndarray]]


def pool_frames(path, max_frames: int, reader_for: ReaderFor) -> tuple[np.ndarray | None, int]:
    """(sum of the read frames, how many), or (None, 0) for a file with no readable video."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError):
        return None, 0
    total, n = None, 0
    with container:
        if not container.streams.video:
            return None, 0
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        read = reader_for(stream)
        count = stream.frames or 0
        step = max(1, -(-count // max_frames)) if count else 1
        try:
            for i, frame in enumerate(container.decode(stream)):
                if i % step:
                    continue
                x = read(frame)
                total = x if total is None else total + x
                n += 1
                if n >= max_frames:
                    break
        except av.error.FFmpegError:
            pass  # a damaged stream: pool what was read
    return total, n
