"""Waiting for something another process does (a job to finish, a port to open), in one
place: poll until a deadline, then fail with a message that says what did not happen."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], *, timeout: float, interval: float = 0.2,
               what: str | Callable[[], str] = "the condition") -> T:
    """`condition()`'s first truthy value, polled every `interval` seconds; TimeoutError
    after `timeout` seconds, saying `what` (a callable is asked at that moment)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(what() if callable(what) else f"{what} did not happen within {timeout:.0f} s")
        time.sleep(interval)
