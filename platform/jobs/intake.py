"""The intake: a submission is answered after cheap checks, and the face is checked
off the request path.

On the web tier `accept_job` reads the uploads (sizes, real types, the pixel count
from the image header, a decodable voice track within the limit) and asks the gate
every rule that needs no face (vetting, consent, purpose, scope, limits, rate). A
refusal there is final at once (a denied job, as before); otherwise the job is stored
as CHECKING and a message goes to the intake queue. `check_job`, run by an intake
worker, detects the face, matches it against the subject's enrolment and the protected
list, and decides again with every rule: the job becomes QUEUED (and is sent to the
generation queue) or DENIED with the gate's reasons. Nothing is rendered before that:
the generation worker only takes QUEUED jobs and decides again itself.

As with generation, the database is the source of truth: the message only wakes a
worker. A duplicate finds the job no longer CHECKING and does nothing; a lost one is
sent again by the reaper (`reap_checking`)."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from audit.chain import atomic as audit_atomic
from audit.chain import record
from consent.models import Consent
from detection.photo_check import NotAPhotograph
from generation.errors import InputError, MultipleFaces

from .backends import unavailable_backends
from .dispatch import RETRY_POLICY, dispatch, published
from .gate import EMBEDDING_CHECKS, FACE_CHECKS, decide_job, decide_request
from .inputs import analyse_photo, read_uploads
from .models import Job
from .services import check_recorded_purpose, store_submission

log = logging.getLogger(__name__)


def accept_job(*, creator, subject, photo, audio, controls=None, purpose: str = "", channel: str = "") -> Job:
    """The request path: a CHECKING job (its face checked later by the intake), or a job
    DENIED at once by a rule that needs no face. Bad uploads raise InputError (a 400)."""
    check_recorded_purpose(purpose)
    uploads = read_uploads(photo, audio, controls)
    why = unavailable_backends().get(uploads.controls.backend)
    if why:  # no worker would ever run it: refused by name, nothing stored
        raise InputError(why, code="backend_unavailable", field="backend")
    gate = decide_request(creator=creator, subject=subject, face_count=None, purpose=purpose, channel=channel,
                          photo_bytes=len(uploads.photo), audio_bytes=len(uploads.audio),
                          audio_seconds=uploads.audio_seconds, without=FACE_CHECKS)
    status = Job.Status.CHECKING if gate.decision.allowed else Job.Status.DENIED
    return store_submission(creator=creator, subject=subject, uploads=uploads, gate=gate, status=status,
                            purpose=purpose, channel=channel, then=dispatch_intake)


def dispatch_intake(job: Job) -> bool:
    """Publish the job's intake task (False: CHECKING, the reaper sends it later)."""
    return published(job, lambda: intake_job.apply_async((str(job.pk),), queue=settings.VERITALK_INTAKE_QUEUE,
                                                          retry=True, retry_policy=RETRY_POLICY))


def check_job(job_id) -> Job:
    """What an intake worker runs: face analysis, then the whole gate, then QUEUED or DENIED.
    Returns the job as it is afterwards (unchanged when it was no longer CHECKING)."""
    job = Job.objects.get(pk=job_id)
    if job.status != Job.Status.CHECKING:
        return job  # a duplicate message, or the consent was revoked meanwhile
    try:
        with job.photo.storage.open(job.photo.name, "rb") as fh:
            photo = fh.read()
    except FileNotFoundError:
        job.refresh_from_db()
        if job.status != Job.Status.CHECKING:
            return job  # cancelled (its files deleted) while this worker was reading
        return _fail(job, {"code": "internal_error", "field": None,
                           "message": f"the uploaded photo of job {job.pk} is missing from storage"})
    try:
        face, problem = analyse_photo(photo), None
    except InputError as exc:
        face, problem = None, exc
    del photo
    with audit_atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != Job.Status.CHECKING:
            return job
        if job.consent_id:  # a revocation commits either before this decision or after the job is queued
            Consent.objects.select_for_update(no_key=True).filter(pk=job.consent_id).first()
        if problem is None:
            job.face_count, job.face_box, job.face_embedding = 1, face.box, face.embedding
            gate = decide_job(job)
        else:
            job.face_count = _face_count(problem)
            gate = decide_job(job, without=EMBEDDING_CHECKS)  # one-face refuses; no embedding to match
            if gate.decision.allowed:  # not a photograph, or a policy without the one-face rule: still unusable
                gate = gate._replace(decision=replace(gate.decision, allowed=False, reasons=[problem.message],
                                                      rules=[]))
        job.decision = gate.record_dict("submission")
        record("policy.decision", target=job, data={**gate.record_dict("submission"), "facts": gate.facts})
        if gate.decision.allowed:
            job.status, job.consent = Job.Status.QUEUED, gate.consent
            job.save(update_fields=["status", "consent", "decision", "face_count", "face_box", "face_embedding"])
            record("job.checked", target=job, data={"faces": 1})
            transaction.on_commit(lambda: dispatch(job))
            return job
        uploads = [f.name for f in (job.photo, job.audio) if f]
        job.status, job.finished_at, job.consent = Job.Status.DENIED, timezone.now(), None
        job.error = problem.as_dict() if problem is not None else None
        job.photo.name = job.audio.name = ""
        job.save(update_fields=["status", "finished_at", "consent", "decision", "error", "face_count", "face_box",
                                "face_embedding", "photo", "audio"])
        record("job.denied", target=job, data={"stage": "submission", "reasons": gate.decision.reasons,
                                               "input_error": job.error})
    storage = job.photo.storage
    for name in uploads:  # after the commit: the refusal is recorded before the files go
        storage.delete(name)
    return job


def _face_count(problem: InputError) -> int:
    if isinstance(problem, MultipleFaces):
        return int(problem.params.get("n", 2))
    if isinstance(problem, NotAPhotograph):
        return 1  # one face, but drawn or rendered: refused for that reason, not for the face count
    return 0  # no face, a photo too small to hold one, or one that cannot be decoded


def _fail(job: Job, error: dict) -> Job:
    with audit_atomic():
        updated = Job.objects.filter(pk=job.pk, status=Job.Status.CHECKING).update(
            status=Job.Status.FAILED, error=error, finished_at=timezone.now())
        if updated:
            record("job.failed", target=job, data=error)
    job.refresh_from_db()
    return job


def reap_checking(now=None) -> dict:
    """Send again the intake message of CHECKING jobs not picked up for
    VERITALK_REDISPATCH_SECONDS (a broker that lost it); duplicates are harmless."""
    now = now or timezone.now()
    waiting = Job.objects.filter(status=Job.Status.CHECKING).filter(
        Q(dispatched_at__lt=now - timedelta(seconds=settings.VERITALK_REDISPATCH_SECONDS))
        | Q(dispatched_at__isnull=True, created_at__lt=now - timedelta(seconds=10)))
    return {"checking_lost": sum(dispatch_intake(job) for job in waiting)}


@shared_task(bind=True, name="jobs.intake", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             max_retries=10)
def intake_job(self, job_id: str) -> None:
    from .runner import TRANSIENT_ERRORS  # noqa: PLC0415 - the web tier imports this module, not the engine
    try:
        check_job(job_id)
    except TRANSIENT_ERRORS as exc:
        # The database went away mid-check: nothing was decided, so the same check runs again.
        for conn in connections.all():
            conn.close_if_unusable_or_obsolete()
        close_old_connections()
        raise self.retry(exc=exc, countdown=min(60, 2 ** self.request.retries)) from exc
