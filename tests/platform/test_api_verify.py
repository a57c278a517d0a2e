"""The auditors' verification endpoint: any file in, the verify JSON and the manifest
report out; files that are neither video nor image are a 400 naming the problem; each
verification is in the audit log."""
import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from jobs.runner import run_job
from jobs.services import submit_job
from tests.conftest import corpus_file


def auditor_api(make_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user("audrey", role="auditor", vetted=False))
    return client


@pytest.mark.django_db
def test_verify_an_output_with_its_manifest(make_user, creator, consenting_subject, portrait, short_speech):
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        job = submit_job(creator=creator, subject=consenting_subject, photo=p, audio=a, controls={"size": 256},
                         purpose="test")
    run_job(str(job.pk))
    job.refresh_from_db()
    with open(job.output.path, "rb") as f:
        r = auditor_api(make_user).post("/api/verify/", {"file": f}, format="multipart")
    data = r.json()
    assert r.status_code == 200 and data["verdict"] == "authentic" and data["kind"] == "video"
    assert data["registry"]["job"] == str(job.pk) and not data["registry"]["revoked"]
    m = data["manifest"]
    assert m["signer"]["issuer"] == "Veritalk" and m["state"] == "Trusted"
    assert [a["action"] for a in m["actions"]][:2] == ["c2pa.created", "c2pa.watermarked"]
    assert "com.veritalk.provenance" in m["assertions"] and m["tree"]["signature_info"]["issuer"] == "Veritalk"
    assert AuditEvent.objects.filter(action="verification.run", actor="audrey").exists()


@pytest.mark.django_db
def test_a_real_photo_has_no_provenance(make_user):
    with open(corpus_file("photos/obama_1.jpg"), "rb") as f:
        r = auditor_api(make_user).post("/api/verify/", {"file": f}, format="multipart")
    assert r.status_code == 200 and r.json()["verdict"] == "no_provenance" and r.json()["kind"] == "image"
    assert r.json()["manifest"] is None


@pytest.mark.django_db
def test_a_file_that_is_no_media_is_refused_clearly(make_user, text_file):
    with open(text_file, "rb") as f:
        r = auditor_api(make_user).post("/api/verify/", {"file": f}, format="multipart")
    assert r.status_code == 400 and "neither a video nor an image" in r.json()["file"][0]
    assert not AuditEvent.objects.filter(action="verification.run").exists()


@pytest.mark.django_db
def test_anonymous_cannot_verify(portrait):
    with open(portrait, "rb") as f:
        r = APIClient().post("/api/verify/", {"file": f}, format="multipart")
    assert r.status_code == 401 and r["WWW-Authenticate"] == "Token"
