"""Sending jobs to the workers, and finding the ones whose message or worker was lost.

The database is the source of truth: a job is QUEUED or RUNNING there until a worker
finishes it. The broker message is only a wake-up call, so a lost message (a broker
restarted without persistence) or a lost worker (killed mid-job) costs a delay, never
the job: the reaper sends it again, and a duplicate message finds the job taken or
done and does nothing."""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from audit.chain import record

from .models import Job

log = logging.getLogger(__name__)
GENERATE_TASK = "jobs.generate"   # jobs.tasks.generate_job; sent by name, so this module needs no task object


def queue_for(job: Job) -> str:
    """Diffusion jobs go to the GPU workers' queue; everything else to the CPU engine's."""
    if (job.controls or {}).get("backend") == "diffusion":
        return settings.VERITALK_GPU_QUEUE
    return settings.VERITALK_GENERATION_QUEUE


RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}


def published(job: Job, send) -> bool:
    """Run `send()` (which publishes one of the job's tasks) and stamp the job as
    dispatched; False when the broker cannot be reached, the job left for the reaper,
    so the creator's request still succeeds."""
    try:
        send()
    except (BrokerError, OSError) as exc:
        log.warning("broker unavailable, job %s left for the reaper: %s", job.pk, exc)
        return False
    Job.objects.filter(pk=job.pk).update(dispatched_at=timezone.now())
    return True


def dispatch(job: Job) -> bool:
    """Publish the job's generation task (False: QUEUED, left for the reaper)."""
    return published(job, lambda: current_app.send_task(GENERATE_TASK, (str(job.pk),), queue=queue_for(job),
                                                        retry=True, retry_policy=RETRY_POLICY))


def reap(now=None) -> dict:
    """Re-dispatch RUNNING jobs whose worker stopped renewing its lease, and QUEUED
    jobs whose message has not been picked up for VERITALK_REDISPATCH_SECONDS."""
    now = now or timezone.now()
    stale = Job.objects.filter(status=Job.Status.RUNNING, lease_expires_at__lt=now).filter(
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=F("lease_expires_at")))
    waiting = Job.objects.filter(status=Job.Status.QUEUED).filter(
        Q(dispatched_at__lt=now - timedelta(seconds=settings.VERITALK_REDISPATCH_SECONDS))
        | Q(dispatched_at__isnull=True, created_at__lt=now - timedelta(seconds=10)))
    counts = {"running_lost": 0, "queued_lost": 0}
    for job in stale:
        record("job.requeued", target=job, data={"reason": "worker lost: lease expired",
                                                 "previous_owner": job.lease_owner, "attempts": job.attempts})
        counts["running_lost"] += dispatch(job)
    for job in waiting:
        counts["queued_lost"] += dispatch(job)
    return counts
