"""Which CPUs a batch worker (intake, generation, detection) may run on (`runworker --cpus`).

Pinning the batch workers off the first CPU leaves that core to the web processes,
PostgreSQL and the broker. Measured on the 2-core VM it made submissions slower (the batch
then shares one core and holds the audit lock longer; docs/benchmarks.md, "Where a
submission's time goes"), so it is off by default: a knob for machines with more cores."""
from __future__ import annotations

import os


class CpuSpecError(ValueError):
    """A --cpus value that names no usable CPU."""


def batch_cpus(spec: str, available: set[int] | None = None) -> set[int] | None:
    """The CPUs for `spec`: `all` (no pinning: None), `spare` (every CPU but the lowest
    when there are at least two, else no pinning) or a list such as `1,2-3`."""
    cpus = set(os.sched_getaffinity(0)) if available is None else set(available)
    spec = (spec or "all").strip().lower()
    if spec == "all":
        return None
    if spec == "spare":
        return cpus - {min(cpus)} if len(cpus) >= 2 else None
    chosen: set[int] = set()
    for part in spec.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise CpuSpecError(f"--cpus {spec!r}: use all, spare, or CPU numbers such as 1 or 1,2-3") from None
        chosen.update(range(first, last + 1))
    if not chosen or not chosen <= cpus:
        raise CpuSpecError(f"--cpus {spec!r}: this machine offers CPUs {sorted(cpus)}")
    return chosen


def pin(cpus: set[int] | None) -> None:
    """Pin this process (and the pool processes it forks later) to `cpus`."""
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
