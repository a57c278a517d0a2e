"""Where a request's time goes, in a `Server-Timing` header (a web standard: browsers'
developer tools and the load bench read it): the whole request in Django, the CPU its
thread used, the time in database statements (with their count), the wait for an
upload slot (veritalk.middleware) and the wait for the audit log's lock. What is left
is waiting for a core or for the interpreter's lock. Off unless
VERITALK_SERVER_TIMING is set: the figures describe the server's load to anyone."""
from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connection


@dataclass
class Spent:
    db: float = 0.0
    queries: int = 0
    lock: float = 0.0
    slot: float = 0.0


_current: ContextVar[Spent | None] = ContextVar("veritalk_request_spent", default=None)


def add_wait(kind: str, seconds: float) -> None:
    """Charge a wait to the current request: `lock` (the audit log's lock, audit.chain.lock)
    or `slot` (an upload slot, veritalk.middleware). Outside a request (a worker) it is
    ignored."""
    spent = _current.get()
    if spent is not None:
        setattr(spent, kind, getattr(spent, kind) + seconds)


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.VERITALK_SERVER_TIMING:
            return self.get_response(request)
        spent = Spent()
        token = _current.set(spent)

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent.db += time.perf_counter() - started
                spent.queries += 1

        started, cpu = time.perf_counter(), time.thread_time()
        try:
            with connection.execute_wrapper(timed):
                response = self.get_response(request)
        finally:
            _current.reset(token)
        total, cpu = time.perf_counter() - started, time.thread_time() - cpu
        response["Server-Timing"] = (f"app;dur={total * 1000:.3f}, cpu;dur={cpu * 1000:.3f}, "
                                     f"db;dur={spent.db * 1000:.3f};desc=\"{spent.queries} statements\", "
                                     f"slot;dur={spent.slot * 1000:.3f}, lock;dur={spent.lock * 1000:.3f}")
        return response
