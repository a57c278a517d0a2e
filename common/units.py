"""Sizes for people: messages name sizes and limits in MB (2**20 bytes), never in bytes."""


def megabytes(size: int | float) -> str:
    """`size` bytes in MB: one decimal at most from 1 MB up (41943040 -> "40", 1572864 ->
    "1.5"), two significant digits below (50000 -> "0.048")."""
    mb = size / 2**20
    return f"{round(mb, 1):g}" if mb >= 1 else f"{mb:.2g}"
