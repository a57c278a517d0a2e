"""Submitting a job: validate the inputs, ask the gate, store and dispatch; cancelling
queued (or still checking) jobs when their consent is revoked; and a creator cancelling
their own job before it is final (a running one stops at the worker's next heartbeat)."""
from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.chain import atomic as audit_atomic
from audit.chain import record
from common.errors import UserError
from consent.signals import consent_revoked
from generation.errors import InputError

from .dispatch import dispatch
from .gate import FACE_CHECKS, decide_job, decide_request
from .inputs import validate_inputs
from .models import Job

LIVE_PURPOSE = "live"


def check_recorded_purpose(purpose: str) -> None:
    """A recorded video may not claim the purpose `live`: a consent to live sessions does
    not cover recorded videos (live sessions make their own job, platform/live)."""
    if purpose == LIVE_PURPOSE:
        raise InputError(gettext_noop("The purpose 'live' is only for live sessions; a recorded video needs "
                                      "another purpose."), code="live_purpose", field="purpose")


def submit_job(*, creator, subject, photo, audio, controls=None, purpose: str = "", channel: str = "") -> Job:
    """The synchronous path (the command line): every check, face included, in this
    process. Return the job: queued, or denied with the decision and no stored files.
    Bad uploads raise generation.errors.InputError before anything is written.
    The web tier uses jobs.intake.accept_job, which leaves the face to the intake queue."""
    check_recorded_purpose(purpose)
    inputs = validate_inputs(photo, audio, controls)
    gate = decide_request(creator=creator, subject=subject, face_count=1, purpose=purpose, channel=channel,
                          face_embedding=inputs.face_embedding, photo_bytes=len(inputs.photo),
                          audio_bytes=len(inputs.audio), audio_seconds=inputs.audio_seconds)
    status = Job.Status.QUEUED if gate.decision.allowed else Job.Status.DENIED
    return store_submission(creator=creator, subject=subject, uploads=inputs, gate=gate, status=status,
                            purpose=purpose, channel=channel, face_box=inputs.face_box,
                            face_embedding=inputs.face_embedding, then=dispatch)


def store_submission(*, creator, subject, uploads, gate, status, purpose: str, channel: str, face_box=None,
                     face_embedding=None, then=None) -> Job:
    """Store the uploads (unless the job is denied), then write the job row and its audit
    events in one transaction; `then(job)` runs after the commit (the next worker's wake-up).
    A job that is still to be checked keeps no decision yet: the request path's
    partial one is in the audit log only."""
    allowed = status != Job.Status.DENIED
    stage = "request" if status == Job.Status.CHECKING else "submission"
    job = Job(creator=creator, subject=subject, consent=gate.consent if allowed else None, purpose=purpose,
              channel=channel, controls=uploads.controls.as_dict(), photo_sha256=uploads.photo_sha256,
              audio_sha256=uploads.audio_sha256, audio_seconds=uploads.audio_seconds,
              face_count=1 if face_embedding is not None else 0, face_box=face_box, face_embedding=face_embedding,
              photo_bytes=len(uploads.photo), audio_bytes=len(uploads.audio),
              decision=None if status == Job.Status.CHECKING else gate.record_dict(stage), status=status)
    try:
        if allowed:
            # Inputs are stored only for jobs that may go on, under fixed names in the job's folder
            # (named by the job's id, known before the row is saved), before the transaction.
            job.photo.save(f"photo.{uploads.photo_ext}", ContentFile(uploads.photo), save=False)
            job.audio.save(f"audio.{uploads.audio_ext}", ContentFile(uploads.audio), save=False)
        # Not serialised: this transaction locks only the rows it creates (the new job, its
        # events in the outbox; the key-share locks of its foreign keys wait for nobody's
        # job), so the request never waits for a worker's transaction. A revocation that
        # commits meanwhile is caught by the next full gate (intake, start, release).
        with audit_atomic(serialised=False):
            job.save()
            record("job.created", actor=creator, target=job,
                   data={"subject": subject.pk, "controls": job.controls, "purpose": purpose, "channel": channel,
                         "photo_sha256": uploads.photo_sha256, "audio_sha256": uploads.audio_sha256})
            record("policy.decision", actor=creator, target=job, data={**gate.record_dict(stage), "facts": gate.facts})
            if allowed and then is not None:
                transaction.on_commit(lambda: then(job))
    except BaseException:
        for f in (job.photo, job.audio):  # the rows rolled back: remove the files written with them
            if f:
                f.storage.delete(f.name)
        raise
    return job


class CancelError(UserError):
    """A cancellation refused: not the job's creator, or the job is already final."""


CANCELLED_BY_CREATOR = gettext_noop("Cancelled by its creator before it finished: nothing was released and the "
                                    "uploaded files were deleted.")


def cancel_job(job_id, *, by) -> Job:
    """The creator cancels a job that is not final yet. A checking or queued job ends at
    once and its inputs are deleted; a running one is marked cancelled and its worker stops
    at its next heartbeat, discards what it wrote and deletes the inputs (jobs.runner):
    nothing is released either way. Audited."""
    with audit_atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.creator_id != by.pk:
            raise CancelError(gettext_noop("only the creator of a job can cancel it"), code="forbidden")
        if job.is_final:
            raise CancelError(gettext_noop("this job has already ended (%(status)s): there is nothing to cancel"),
                              code="not_cancellable", params={"status": job.status})
        was = job.status
        files = [f.name for f in (job.photo, job.audio) if f] if was != Job.Status.RUNNING else []
        storage = job.photo.storage
        job.status, job.finished_at = Job.Status.CANCELLED, timezone.now()
        job.error = {"code": "cancelled_by_creator", "field": None, "message": CANCELLED_BY_CREATOR}
        job.lease_expires_at = None
        if files:  # a running job's worker still reads them: it deletes them once it has stopped
            job.photo.name = job.audio.name = ""
        job.save(update_fields=["status", "finished_at", "error", "lease_expires_at", "photo", "audio"])
        record("job.cancelled", actor=by, target=job, data={"reason": "cancelled by its creator", "was": was})
        transaction.on_commit(lambda names=files, st=storage: [st.delete(n) for n in names])
    return job


def cancel_queued_jobs(consent, *, actor=None) -> list[Job]:
    """Cancel every queued (or still checking) job accepted under `consent` (its subject
    revoked it) and delete their stored inputs once the cancellation is committed. Runs
    inside the revocation's transaction; the workers skip a job that is no longer queued
    or checking."""
    cancelled = []
    for job in Job.objects.select_for_update().filter(consent=consent,
                                                      status__in=(Job.Status.QUEUED, Job.Status.CHECKING)):
        gate = decide_job(job, without=FACE_CHECKS if job.status == Job.Status.CHECKING else frozenset())
        files = [f.name for f in (job.photo, job.audio) if f]
        storage = job.photo.storage
        job.status, job.finished_at = Job.Status.CANCELLED, timezone.now()
        job.decision = gate.record_dict("revocation")
        job.error = {"code": "consent_revoked", "field": None,
                     "message": f"Consent #{consent.pk} was revoked by the subject; the job was cancelled "
                                "before generation and its uploaded files were deleted."}
        job.photo.name = job.audio.name = ""
        job.save(update_fields=["status", "finished_at", "decision", "error", "photo", "audio"])
        record("policy.decision", actor=actor, target=job, data={**gate.record_dict("revocation"),
                                                                 "facts": gate.facts})
        record("job.cancelled", actor=actor, target=job, data={"reason": "consent revoked", "consent": consent.pk,
                                                               "reasons": gate.decision.reasons})
        transaction.on_commit(lambda names=files, st=storage: [st.delete(n) for n in names])
        cancelled.append(job)
    return cancelled


@receiver(consent_revoked, dispatch_uid="jobs.cancel_queued_jobs")
def _cancel_on_revocation(sender, *, consent, actor=None, **kwargs):
    cancel_queued_jobs(consent, actor=actor)

