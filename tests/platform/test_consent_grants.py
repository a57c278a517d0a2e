"""Granting consent is the subject's act: only to a creator who invited them, after
enrolling, with a scope the policy knows (purposes, channels, expiry, number of
videos) and an explicit agreement. Creators see the consents they received and
the subjects' names, never their faces; subjects see the videos made of them."""
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from consent.invitations import accept_invitation, create_invitation
from consent.models import Consent
from jobs.models import Job
from tests.platform.conftest import as_user as api


@pytest.fixture
def bea(bea_account):
    return bea_account


GOOD = {"creator": "ana", "purposes": ["education"], "channels": ["web", "social"], "max_videos": 3,
        "agree": True}


@pytest.mark.django_db
def test_a_scoped_consent_through_the_portal(client, bea):
    client.force_login(bea)
    page = client.get("/me/consents/new/").content.decode()
    assert "Education" in page and "Broadcast" in page and 'value="ana"' in page
    expires = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    r = client.post("/me/consents/new/", {"creator": "ana", "purposes": ["education", "marketing"],
                                          "channels": ["web"], "expires_at": expires, "max_videos": "2",
                                          "statement": "", "agree": "on"})
    assert r.status_code == 302, r.content.decode()[-3000:]
    consent = Consent.objects.get()
    assert consent.purposes == ["education", "marketing"] and consent.channels == ["web"]
    assert consent.max_videos == 2 and consent.expires_at is not None and consent.is_active()
    assert "I, Bea, agree that ana may make videos of my face" in consent.statement
    event = AuditEvent.objects.get(action="consent.granted")
    assert event.actor == "bea" and event.data["max_videos"] == 2
    assert "active" in client.get("/me/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("change,field,message", [
    ({"creator": "eve"}, "creator", "'eve' has not invited you"),
    ({"purposes": []}, "purposes", "choose at least one purpose"),
    ({"purposes": ["political"]}, "purposes", "unknown purpose(s) political"),
    ({"channels": ["billboard"]}, "channels", "unknown channel(s) billboard"),
    ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at", "the expiry must be in the future"),
    ({"max_videos": 0}, "max_videos", "at least 1"),
    ({"agree": False}, "agree", "tick the box"),
])
def test_a_grant_is_checked(bea, make_user, change, field, message):
    make_user("eve")
    r = api(bea).post("/api/grants/", {**GOOD, **change}, format="json")
    assert r.status_code == 400 and message in r.json()[field][0], r.json()
    assert not Consent.objects.exists()


@pytest.mark.django_db
def test_no_consent_before_enrolment(make_user, creator):
    dan = make_user("dan", role="subject")
    accept_invitation(account=dan, invitation=create_invitation(creator=creator, display_name="Dan")[0])
    r = api(dan).post("/api/grants/", GOOD, format="json")
    assert r.status_code == 400 and r.json()["code"] == "not_enrolled"


@pytest.mark.django_db
def test_creators_see_consents_never_faces(bea, creator, make_user):
    assert api(bea).post("/api/grants/", GOOD, format="json").status_code == 201
    eve = make_user("eve")
    subjects = api(creator).get("/api/subjects/")
    assert subjects.status_code == 200 and "embedding" not in subjects.content.decode()
    [row] = subjects.json()["results"]
    assert row["display_name"] == "Bea" and row["enrolled"] and row["consents"][0]["purposes"] == ["education"]
    assert api(creator).get("/api/grants/").json()["count"] == 1
    assert api(eve).get("/api/grants/").json()["count"] == 0 and api(eve).get("/api/subjects/").json()["count"] == 0


@pytest.mark.django_db
def test_subjects_see_the_videos_made_of_them(client, bea, creator, make_user):
    subject = bea.subject_profile
    Job.objects.create(creator=creator, subject=subject, status="denied", purpose="education",
                       photo_sha256="0" * 64, audio_sha256="0" * 64)
    r = api(bea).get(f"/api/subjects/{subject.pk}/videos/")
    assert r.status_code == 200 and r.json()["results"][0]["creator"] == "ana"
    other = make_user("sam", role="subject")
    assert api(other).get(f"/api/subjects/{subject.pk}/videos/").status_code == 404
    assert api(creator).get(f"/api/subjects/{subject.pk}/videos/").status_code == 403
    client.force_login(bea)
    assert "Denied by policy" in client.get("/me/videos/").content.decode()
