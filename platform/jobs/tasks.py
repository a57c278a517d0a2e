"""Celery tasks. The work itself lives in jobs.runner so it can be read and
tested without a broker."""
from celery import shared_task

from .runner import run_job


@shared_task(name="jobs.generate", acks_late=True, ignore_result=True)
def generate_job(job_id: str) -> None:
    run_job(job_id)
