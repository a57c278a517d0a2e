"""The jobs API beyond submission: the face preview before a job, the result download
(the creator's own, gone once the subject revokes), and who may create jobs."""
import pytest

from consent.services import revoke_consent
from jobs.intake import check_job
from jobs.models import Job
from jobs.runner import run_job
from tests.conftest import corpus_file
from tests.platform.conftest import as_user


@pytest.mark.django_db
def test_face_preview_finds_one_face_and_explains_the_rest(creator, two_faces_png, text_file):
    api = as_user(creator)
    with open(corpus_file("photos/elizabeth_olsen.jpg"), "rb") as f:
        one = api.post("/api/faces/", {"photo": f}, format="multipart").json()
    assert one["ok"] and len(one["faces"]) == 1 and one["problem"] is None
    left, top, right, bottom = one["faces"][0]["box"]
    assert 0 <= left < right <= one["width"] and 0 <= top < bottom <= one["height"]
    with open(two_faces_png, "rb") as f:
        two = api.post("/api/faces/", {"photo": f}, format="multipart").json()
    assert not two["ok"] and len(two["faces"]) == 2 and "2 faces" in two["problem"]
    with open(text_file, "rb") as f:
        bad = api.post("/api/faces/", {"photo": f}, format="multipart")
    assert bad.status_code == 400 and "not an image" in bad.json()["photo"][0]


@pytest.mark.django_db
def test_only_creators_create_jobs(make_user, consenting_subject, portrait, short_speech):
    for role in ("auditor", "subject", "moderator"):
        with open(portrait, "rb") as p, open(short_speech, "rb") as a:
            r = as_user(make_user(role, role=role)).post("/api/jobs/", {"subject": consenting_subject.pk,
                                                                        "photo": p, "audio": a}, format="multipart")
        assert r.status_code == 403 and "creator account" in r.json()["detail"], role
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_result_download_progress_and_revocation(creator, make_user, consenting_subject, portrait, short_speech):
    api = as_user(creator)
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        created = api.post("/api/jobs/", {"subject": consenting_subject.pk, "photo": p, "audio": a,
                                          "purpose": "test", "size": 256}, format="multipart").json()
    assert created["status"] == "checking" and created["progress"] == 0 and created["output_url"] is None
    assert api.get(f"/api/jobs/{created['id']}/output/").status_code == 404   # nothing yet
    check_job(created["id"])                                                  # what the intake worker runs
    assert api.get(f"/api/jobs/{created['id']}/").json()["status"] == "queued"
    run_job(created["id"])
    job = api.get(f"/api/jobs/{created['id']}/").json()
    assert job["status"] == "succeeded" and job["progress"] == 100
    assert job["output_url"].endswith(f"/api/jobs/{created['id']}/output/")
    r = api.get(f"/api/jobs/{created['id']}/output/?download=1")
    body = b"".join(r.streaming_content)
    assert r.status_code == 200 and r["Content-Type"] == "video/mp4" and "attachment" in r["Content-Disposition"]
    import hashlib
    assert hashlib.sha256(body).hexdigest() == job["output_sha256"]
    # Another creator cannot see it at all.
    other = as_user(make_user("eve"))
    assert other.get(f"/api/jobs/{created['id']}/").status_code == 404
    assert other.get(f"/api/jobs/{created['id']}/output/").status_code == 404
    # Once the subject revokes, the file is gone for the creator.
    revoke_consent(Job.objects.get(pk=created["id"]).consent, actor=None, reason="test")
    gone = api.get(f"/api/jobs/{created['id']}/output/")
    assert gone.status_code == 410 and gone.json()["code"] == "consent_revoked"
