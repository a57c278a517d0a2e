"""The policy gate as the platform sees it: gather facts from the database and
ask the policies library for a decision. Called before dispatch and again in the
worker before generation, every few frames during it, and before release."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.utils import timezone

from consent.identity import nearest_protected, subject_distance
from consent.models import Consent, Subject
from consent.policy import current_policy
from policies import Decision, evaluate

from .models import Job

# Jobs that count against a consent's number of videos and a creator's rate limit
# (a job still being checked counts: it may become a video).
COUNTED = ("checking", "queued", "running", "succeeded")
# The checks that need the photo's face: a submission is first decided without them
# (on the request path), then with them once the intake has analysed the face.
FACE_CHECKS = frozenset({"exactly_one_face", "identity_match", "protected_person"})
EMBEDDING_CHECKS = frozenset({"identity_match", "protected_person"})


class GateResult(NamedTuple):
    decision: Decision
    consent: object      # the consent the decision used (None when there is none)
    facts: dict          # what it was decided on (no pixels, no embeddings)

    def record_dict(self, stage: str) -> dict:
        """What a job stores: the decision, the stage it was taken at, the consent it used."""
        return {**self.decision.as_dict(), "stage": stage, "consent": self.consent.pk if self.consent else None}


def _recent(creator, policy, before, exclude_job) -> dict:
    """Per rate-limit window: the creator's accepted jobs and denied attempts before `before`."""
    out = {}
    for params in policy.params_of("rate_limit"):
        hours = params["window_hours"]
        jobs = Job.objects.filter(creator=creator, created_at__gte=before - timedelta(hours=hours),
                                  created_at__lt=before)
        if exclude_job is not None:
            jobs = jobs.exclude(pk=exclude_job)
        # A photo the intake found unusable (no face, damaged) is not a refused request: the
        # same upload was a 400 before any job existed when the face was checked inline.
        out[str(hours)] = {"accepted": jobs.filter(status__in=COUNTED).count(),
                           "denied": jobs.filter(status="denied", error__isnull=True).count()}
    return out


def _videos_used(consent, before, exclude_job) -> int:
    jobs = consent.jobs.filter(status__in=COUNTED, created_at__lt=before)
    return (jobs.exclude(pk=exclude_job) if exclude_job is not None else jobs).count()


def gather_facts(*, creator, subject, face_count: int = 1, purpose: str = "", channel: str = "",
                 face_embedding=None, photo_bytes: int = 0, audio_bytes: int = 0, audio_seconds: float = 0.0,
                 now=None, since=None, exclude_job=None, consent=None, policy=None) -> tuple[dict, object]:
    """Facts for the policy. `since` is the moment counted jobs must precede (the
    job's own creation when a queued job is decided again, so the same job is
    judged the same way); `consent` pins the consent a job was accepted under."""
    now = now or timezone.now()
    since = since or now
    policy = policy or current_policy()
    if consent is None:
        consent = subject.consent_for(creator, purpose=purpose, channel=channel, now=now)
    consent_facts = None
    if consent is not None:
        consent_facts = {**consent.policy_facts(), "videos_used": _videos_used(consent, since, exclude_job)}
    facts = {
        "now": now.isoformat(),
        "creator": {**creator.policy_facts(), "recent": _recent(creator, policy, since, exclude_job)},
        "subject": {"id": subject.pk, "name": subject.display_name, "enrolled": subject.enrolled},
        "consent": consent_facts,
        "purpose": purpose or "",
        "channel": channel or "",
        "photo": {"face_count": face_count, "bytes": photo_bytes},
        "audio": {"seconds": audio_seconds, "bytes": audio_bytes},
        "identity": {"distance": subject_distance(subject, face_embedding)},
        "protected": nearest_protected(face_embedding),
    }
    return facts, consent


def decide(*, creator, subject, face_count: int = 1, purpose: str = "", **more) -> tuple[Decision, object]:
    """The decision and the consent it may proceed under (None unless allowed)."""
    result = decide_request(creator=creator, subject=subject, face_count=face_count, purpose=purpose, **more)
    return result.decision, (result.consent if result.decision.allowed else None)


def decide_request(*, without: frozenset = frozenset(), **request) -> GateResult:
    """The decision on `request`; `without` names checks left out because their facts
    are not known yet (FACE_CHECKS before the intake has seen the face)."""
    policy = current_policy()
    facts, consent = gather_facts(policy=policy, **request)
    if without:
        policy = replace(policy, rules=tuple(r for r in policy.rules if r.check not in without))
    return GateResult(evaluate(facts, policy), consent, facts)


def decide_job(job, *, without: frozenset = frozenset()) -> GateResult:
    """Decide an existing job again, on its stored facts and the current state of
    its creator, its consent, its subject's enrolment and the protected list (read
    afresh: the job's cached relations would hide a revocation)."""
    consent = Consent.objects.filter(pk=job.consent_id).first() if job.consent_id else None
    return decide_request(creator=get_user_model().objects.get(pk=job.creator_id),
                          subject=Subject.objects.get(pk=job.subject_id), face_count=job.face_count,
                          purpose=job.purpose, channel=job.channel, face_embedding=job.face_embedding,
                          photo_bytes=job.photo_bytes, audio_bytes=job.audio_bytes, audio_seconds=job.audio_seconds,
                          since=job.created_at, exclude_job=job.pk, consent=consent, without=without)


def decide_face(*, creator, subject, face_embedding, purpose: str = "", channel: str = "") -> GateResult:
    """Only the rules that compare the photo's face (identity match, protected list), on the
    same facts and policy as a submission: what the portal's photo preview shows before
    anything is submitted. The submission is still decided on every rule."""
    checks = {r.check for r in current_policy().rules} - EMBEDDING_CHECKS
    return decide_request(creator=creator, subject=subject, face_count=1, purpose=purpose, channel=channel,
                          face_embedding=face_embedding, without=frozenset(checks))
