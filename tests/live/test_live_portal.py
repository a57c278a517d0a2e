"""The live pages and REST endpoints around the stream: a creator opens a session in
English or French, moderators see streaming sessions and take one down with a note,
a creator stops one, and bad requests get errors that name the problem."""
from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from live.models import LiveSession
from live.services import start_session
from tests.conftest import corpus_file
from tests.platform.conftest import as_user, stored_job_files

pytestmark = pytest.mark.django_db


def photo(name="elizabeth_olsen"):
    return SimpleUploadedFile(f"{name}.jpg", corpus_file(f"photos/{name}.jpg").read_bytes())


@pytest.mark.parametrize("lang,words", [("en", ["Live session", "Open the session", "Sessions end after 15 minutes"]),
                                        ("fr", ["Session en direct", "Ouvrir la session", "au bout de 15 minutes"])])
def test_the_live_page_in_english_and_french(client, creator, live_subject, lang, words):
    client.force_login(creator)
    page = client.get(reverse("live:new"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    for w in words:
        assert w in page, w
    r = client.post(reverse("live:new"), {"subject": live_subject.pk, "photo": photo(), "size": 256,
                                          "emotion": "neutral", "head_motion": 1, "blink_rate": 15},
                    HTTP_ACCEPT_LANGUAGE=lang)
    session = LiveSession.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("live:session", args=[session.pk])
    page = client.get(r["Location"], HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert ("Démarrer" if lang == "fr" else "Start") in page and "live/live.js" in page
    said = json.loads(re.search(r'<script id="live-messages" type="application/json">(.*?)</script>', page).group(1))
    assert said["consent_revoked"].startswith("La personne a révoqué son consentement" if lang == "fr"
                                              else "The subject revoked their consent")   # the reasons it may show


def test_a_bad_photo_is_refused_naming_the_problem_and_nothing_is_stored(client, creator, live_subject, two_faces_png):
    client.force_login(creator)
    with open(two_faces_png, "rb") as f:
        r = client.post(reverse("live:new"), {"subject": live_subject.pk, "photo": f, "size": 256,
                                              "emotion": "neutral", "head_motion": 1, "blink_rate": 15})
    assert r.status_code == 400 and "2 faces" in r.content.decode()
    assert LiveSession.objects.count() == 0 and stored_job_files() == []
    r = as_user(creator).post("/api/live/sessions/", {"subject": live_subject.pk, "photo": photo(), "size": 640},
                              format="multipart")
    assert r.status_code == 400 and "256, 384, 512" in r.content.decode()


def test_moderators_see_streaming_sessions_and_take_one_down(client, creator, live_subject, make_user):
    moderator = make_user("mo", role="moderator", vetted=False)
    session = start_session(creator=creator, subject=live_subject, photo=photo(), controls={"size": 256})
    client.force_login(moderator)
    page = client.get(reverse("live:moderation")).content.decode()
    assert live_subject.display_name in page and "Take down" in page
    r = client.post(reverse("live:take_down", args=[session.pk]), {"note": ""})
    assert LiveSession.objects.get(pk=session.pk).status == "ready"       # a note is needed
    r = client.post(reverse("live:take_down", args=[session.pk]), {"note": "reported as impersonation"})
    assert r.status_code == 302
    session.refresh_from_db()
    assert session.status == "stopped" and session.end_reason == "taken_down"
    assert session.job.status == "denied" and session.job.registry_entry.state == "void"
    assert AuditEvent.objects.filter(action="live.taken_down", target_id=str(session.pk)).exists()
    assert stored_job_files() == []
    client.force_login(creator)
    assert client.get(reverse("live:moderation")).status_code == 403


def test_the_creator_stops_a_session_through_the_api(creator, live_subject, make_user):
    session = start_session(creator=creator, subject=live_subject, photo=photo(), controls={"size": 256})
    other = make_user("eve")
    assert as_user(other).post(f"/api/live/sessions/{session.pk}/stop/").status_code == 404
    r = as_user(creator).post(f"/api/live/sessions/{session.pk}/stop/")
    assert r.status_code == 200 and r.json()["status"] == "failed" and r.json()["end_reason"] == "stopped"
    assert as_user(creator).post(f"/api/live/sessions/{session.pk}/stop/").status_code == 409
    listed = as_user(creator).get("/api/live/sessions/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == str(session.pk)
    assert as_user(other).get("/api/live/sessions/").json()["count"] == 0


def test_an_opened_session_never_streamed_expires(creator, live_subject, settings):
    from datetime import timedelta

    from django.utils import timezone

    from live.services import expire_stale
    session = start_session(creator=creator, subject=live_subject, photo=photo(), controls={"size": 256})
    LiveSession.objects.filter(pk=session.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert expire_stale() == 1
    session.refresh_from_db()
    assert session.status == "failed" and session.end_reason == "not_connected"
    assert session.job.status == "failed" and session.job.registry_entry.state == "void"
