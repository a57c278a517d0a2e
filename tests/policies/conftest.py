"""The red team's world: a vetted creator (ana) with a subject (bea, an account who
accepted ana's invitation, enrolled as obama_1 and consented to education videos on
the web), a subject who accepted but never consented (dan), and a second creator
(eve) with her own consenting subject (cy, enrolled as biden_1). Attempts go
through the REST API (token auth) or the portal (a logged-in browser session)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from consent.invitations import accept_invitation, create_invitation
from consent.services import give_consent
from jobs.intake import check_job
from jobs.models import Job
from tests.conftest import corpus_file
from tests.platform.conftest import (  # noqa: F401
    faces,
    isolated_media,
    make_user,
    queued_messages,
    signing_material,
    stored_job_files,
)

AUDIO = "audio/sr_english_en.wav"


def photo(name: str) -> Path:
    return corpus_file(f"photos/{name}.jpg")


def enrol(subject, embedding):
    subject.face_embedding, subject.enrolment_embeddings = embedding, [embedding]
    subject.enrolled_at = timezone.now()
    subject.save()
    return subject


def join(creator, account, name):
    """`account` accepts `creator`'s invitation link: returns the subject record and the link's token."""
    inv, token = create_invitation(creator=creator, display_name=name)
    return accept_invitation(account=account, invitation=inv), token


def consent_to(account, creator, **scope):
    scope = {"purposes": ["education"], "channels": ["web"], "max_videos": 5,
             "expires_at": timezone.now() + timedelta(days=30), **scope}
    return give_consent(account=account, creator=creator, agreed=True, **scope)


@dataclass
class Outcome:
    """What one attempt produced, through either door."""
    via: str
    http: int
    job: Job | None
    text: str  # the API's JSON body or the portal page (once the intake has decided), as text
    checked: bool = False  # the job was accepted as `checking` and the intake decided it

    @property
    def reasons(self) -> str:
        return " ".join(self.job.decision["reasons"]) if self.job and self.job.decision else ""


@dataclass
class World:
    ana: object
    eve: object
    bea_account: object
    bea: object
    bea_consent: object
    bea_token: str
    dan: object
    cy: object

    def api(self, user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    def portal(self, user):
        from django.test import Client
        client = Client()
        client.force_login(user)
        return client

    def attempt(self, via: str, *, subject, photo_path: Path, audio_path: Path | None = None, user=None,
                purpose: str = "education", channel: str = "web", size: int = 256) -> Outcome:
        """Ask for a video as `user` (ana by default) and report what came back. A job accepted
        as `checking` is then decided by check_job, what the intake worker runs (where a real
        worker also gets the intake message, it finds the job decided and does nothing)."""
        user = user or self.ana
        subject_id = subject if isinstance(subject, int) else subject.pk
        audio_path = audio_path or corpus_file(AUDIO)
        before = set(Job.objects.values_list("pk", flat=True))
        with open(photo_path, "rb") as p, open(audio_path, "rb") as a:
            if via == "api":
                r = self.api(user).post("/api/jobs/", {"subject": subject_id, "photo": p, "audio": a,
                                                       "purpose": purpose, "channel": channel, "size": size},
                                        format="multipart")
                text = r.content.decode()
            else:
                client = self.portal(user)
                r = client.post(reverse("portal:new_job"), {
                    "subject": subject_id, "photo": p, "audio": a, "purpose": purpose, "channel": channel,
                    "emotion": "neutral", "expression_scale": 1, "head_motion": 1, "gaze": "0,0",
                    "blink_rate": 15, "seed": 0, "size": size})
                text = r.content.decode()
        new = Job.objects.exclude(pk__in=before).first()
        checked = new is not None and new.status == Job.Status.CHECKING
        if checked:
            new = check_job(new.pk)
        if via != "api" and r.status_code == 302:
            text = client.get(r["Location"]).content.decode()  # the job page the creator lands on
        return Outcome(via, r.status_code, new, text, checked)


@pytest.fixture
def world(db, make_user, faces) -> World:
    ana, eve = make_user("ana"), make_user("eve")
    bea_account = make_user("bea", role="subject", vetted=False)
    bea, bea_token = join(ana, bea_account, "Bea")
    enrol(bea, faces("obama_1"))
    bea_consent = consent_to(bea_account, ana)
    dan_account = make_user("dan", role="subject", vetted=False)
    dan, _ = join(ana, dan_account, "Dan")
    enrol(dan, faces("jeff_bezos"))
    cy_account = make_user("cy", role="subject", vetted=False)
    cy, _ = join(eve, cy_account, "Cy")
    enrol(cy, faces("biden_1"))
    consent_to(cy_account, eve)
    return World(ana, eve, bea_account, bea, bea_consent, bea_token, dan, cy)


@pytest.fixture(params=["api", "portal"])
def via(request) -> str:
    return request.param


def assert_nothing_written(outcome: Outcome | None = None):
    """No uploaded input, no output, no partial file, and nothing handed to Celery."""
    assert stored_job_files() == [], stored_job_files()
    assert queued_messages() == []
    if outcome is not None and outcome.job is not None:
        assert not outcome.job.photo and not outcome.job.audio and not outcome.job.output
