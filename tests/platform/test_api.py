"""The jobs API: authentication required, paginated lists, the same validation
and gate as the portal."""
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobs.models import Job


@pytest.fixture
def api(creator):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=creator).key}")
    return client


@pytest.mark.django_db
def test_anonymous_cannot_read_or_write(portrait, short_speech):
    client = APIClient()
    r = client.get("/api/jobs/")
    assert r.status_code == 401 and r["WWW-Authenticate"] == "Token"   # the README's challenge
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        assert client.post("/api/jobs/", {"subject": 1, "photo": p, "audio": a}).status_code == 401
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_schema_is_public(client):
    r = client.get("/api/schema/")
    assert r.status_code == 200 and b"/api/jobs/" in r.content


@pytest.mark.django_db
def test_create_denied_then_list_paginated(api, subject, portrait, short_speech):
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        r = api.post("/api/jobs/", {"subject": subject.pk, "photo": p, "audio": a, "emotion": "sad"},
                     format="multipart")
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "denied" and "No consent" in r.json()["decision"]["reasons"][0]
    listing = api.get("/api/jobs/").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == r.json()["id"]


@pytest.mark.django_db
def test_bad_upload_is_a_400_naming_the_problem(api, consenting_subject, text_file, short_speech):
    with open(text_file, "rb") as p, open(short_speech, "rb") as a:
        r = api.post("/api/jobs/", {"subject": consenting_subject.pk, "photo": p, "audio": a}, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "unsupported_format" and "not an image" in r.json()["photo"][0]
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_other_creators_subjects_are_not_accepted(api, make_user, portrait, short_speech):
    from consent.models import Subject
    other = make_user("eve")
    theirs = Subject.objects.create(display_name="Zed", created_by=other)
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        r = api.post("/api/jobs/", {"subject": theirs.pk, "photo": p, "audio": a}, format="multipart")
    assert r.status_code == 400 and "subject" in r.json()
