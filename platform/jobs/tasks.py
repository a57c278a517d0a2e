"""Celery tasks. The work lives in jobs.runner and jobs.dispatch so it can be read
and tested without a broker."""
import os
import socket
import uuid

from celery import shared_task
from django.db import close_old_connections, connections

from audit.chain import link_pending

from .dispatch import GENERATE_TASK, reap
from .intake import (
    intake_job,  # noqa: F401 - registers jobs.intake (the intake queue's task)
    reap_checking,
)
from .runner import TRANSIENT_ERRORS, run_job


@shared_task(bind=True, name=GENERATE_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             max_retries=10)
def generate_job(self, job_id: str) -> None:
    # A token per execution: a duplicate delivery of the same message is a different owner.
    owner = f"{self.request.hostname or socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    try:
        run_job(job_id, owner=owner)
    except TRANSIENT_ERRORS as exc:
        # The database or the broker went away mid-job: the lease lapses, and this
        # message (or the reaper) brings the job back once the service is up again.
        for conn in connections.all():
            conn.close_if_unusable_or_obsolete()
        close_old_connections()
        raise self.retry(exc=exc, countdown=min(60, 2 ** self.request.retries)) from exc


@shared_task(name="jobs.reap", ignore_result=True)
def reap_jobs() -> dict:
    # Also links audit events left in the outbox by a process that died after its commit.
    return {**reap(), **reap_checking(), "audit_linked": link_pending()}
