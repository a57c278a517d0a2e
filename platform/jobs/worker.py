"""An in-process Celery worker for the command-line tools on the embedded broker,
and waiting for a job to reach a final state."""
from __future__ import annotations

import contextlib
import socket
import threading
import uuid

from celery.worker import WorkController
from celery.worker import state as worker_state
from django.conf import settings

from common.polling import wait_until
from veritalk.celery import app as celery_app

from .models import Job


def broker_is_embedded() -> bool:
    return settings.CELERY_BROKER_URL.split("://")[0] in ("filesystem", "memory")


class _ReadyWorker(WorkController):
    def __init__(self, *args, **kwargs):
        self.ready = threading.Event()
        super().__init__(*args, **kwargs)

    def on_consumer_ready(self, consumer):
        self.ready.set()


@contextlib.contextmanager
def embedded_worker(queues: tuple[str, ...] = ("generation",)):
    """Run a solo-pool worker in a thread for the duration of the block."""
    worker = _ReadyWorker(app=celery_app, pool="solo", concurrency=1, loglevel="WARNING",
                          hostname=f"embedded-{uuid.uuid4().hex[:8]}@{socket.gethostname()}",
                          queues=list(queues), without_heartbeat=True, without_mingle=True,
                          without_gossip=True, ready_callback=None)
    thread = threading.Thread(target=worker.start, name="celery-embedded", daemon=True)
    thread.start()
    if not worker.ready.wait(60):
        raise RuntimeError("the embedded Celery worker did not start within 60 s")
    try:
        yield worker
    finally:
        with contextlib.suppress(TimeoutError):  # let a task finish and acknowledge its message
            wait_until(lambda: not worker_state.active_requests, timeout=60, interval=0.1)
        worker.stop(in_sighandler=False)
        thread.join(30)


def wait_for_job(job_id, *, timeout: float = 1800.0, poll: float = 0.5) -> Job:
    def final():
        job = Job.objects.get(pk=job_id)
        return job if job.is_final else None
    return wait_until(final, timeout=timeout, interval=poll,
                      what=lambda: f"job {job_id} is still {Job.objects.get(pk=job_id).status} after {timeout:.0f} s")
