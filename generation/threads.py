"""Running small torch models with a fixed number of CPU threads.

Tiny networks gain nothing from several threads and, on a loaded machine, OpenMP
threads spinning against other processes made them about a hundred times slower
in our measurements; the previous setting is restored afterwards."""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def torch_threads(n: int | None):
    if not n:
        yield
        return
    import torch  # noqa: PLC0415 - heavy (torch): only when torch is in use
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
