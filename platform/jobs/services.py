"""Submitting a job: validate the inputs, ask the gate, store and dispatch."""
from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction

from audit.chain import record

from .dispatch import dispatch
from .gate import decide
from .inputs import validate_inputs
from .models import Job


def submit_job(*, creator, subject, photo, audio, controls=None, purpose: str = "") -> Job:
    """Return the job: queued, or denied with the decision and no stored files.
    Bad uploads raise generation.errors.InputError before anything is written."""
    inputs = validate_inputs(photo, audio, controls)
    decision, consent = decide(creator=creator, subject=subject, face_count=1, purpose=purpose)
    job = Job(creator=creator, subject=subject, consent=consent, purpose=purpose,
              controls=inputs.controls.as_dict(), photo_sha256=inputs.photo_sha256,
              audio_sha256=inputs.audio_sha256, audio_seconds=inputs.audio_seconds, face_count=1,
              face_box=inputs.face_box, decision=decision.as_dict(),
              status=Job.Status.QUEUED if decision.allowed else Job.Status.DENIED)
    try:
        with transaction.atomic():
            if decision.allowed:
                # Inputs are stored only for allowed jobs, under fixed names in the job's folder.
                job.photo.save(f"photo.{inputs.photo_ext}", ContentFile(inputs.photo), save=False)
                job.audio.save(f"audio.{inputs.audio_ext}", ContentFile(inputs.audio), save=False)
            job.save()
            record("job.created", actor=creator, target=job,
                   data={"subject": subject.pk, "controls": job.controls, "purpose": purpose,
                         "photo_sha256": inputs.photo_sha256, "audio_sha256": inputs.audio_sha256})
            record("policy.decision", actor=creator, target=job, data=decision.as_dict())
            if decision.allowed:
                transaction.on_commit(lambda: dispatch(job))
    except BaseException:
        for f in (job.photo, job.audio):  # the rows rolled back: remove the files written with them
            if f:
                f.storage.delete(f.name)
        raise
    return job
