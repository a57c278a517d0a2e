"""The C2PA soft-binding resolution API (/api/c2pa/): a stripped copy of a real
output finds its manifest by its soft binding and by its content, and the
manifest store it names is served whole (application/c2pa)."""
import base64
import io
import json

import c2pa
import pytest
from rest_framework.test import APIClient

from bench import attacks
from consent.services import give_consent
from jobs.runner import run_job
from jobs.services import submit_job
from registry.models import RegistryEntry
from tests.conftest import corpus_file


@pytest.fixture
def entry(bea_account, creator):
    account = bea_account
    subject = account.subject_profile
    give_consent(account=account, creator=creator, purposes=["education"], agreed=True)
    with open(corpus_file("photos/obama_2.jpg"), "rb") as p, open(corpus_file("audio/sr_english_en.wav"), "rb") as a:
        job = submit_job(creator=creator, subject=subject, photo=p, audio=a, controls={"size": 256},
                         purpose="education")
    assert run_job(str(job.pk)).status == "succeeded"
    return RegistryEntry.objects.get(job=job)


@pytest.mark.django_db
def test_resolution_api(entry, creator, tmp_path):
    anon = APIClient()
    value = base64.b64encode(bytes.fromhex(entry.watermark_payload)).decode()
    found = anon.get("/api/c2pa/matches/byBinding", {"alg": "com.veritalk.vtss-3", "value": value})
    assert found.status_code == 200
    assert [m["manifestId"] for m in found.json()["matches"]] == [entry.manifest_id]
    posted = anon.post("/api/c2pa/matches/byBinding", {"alg": "com.veritalk.vtss-3", "value": value}, format="json")
    assert posted.json() == found.json()
    other = base64.b64encode(bytes.fromhex("00000001deadbeef")).decode()
    assert anon.get("/api/c2pa/matches/byBinding", {"alg": "com.veritalk.vtss-3", "value": other}).json() == {
        "matches": []}
    assert anon.get("/api/c2pa/matches/byBinding", {"alg": "com.veritalk.vtss-3"}).status_code == 400
    algs = anon.get("/api/c2pa/services/supportedAlgorithms").json()
    assert {"alg": "com.veritalk.vtss-3"} in algs["watermarks"]

    store = anon.get(f"/api/c2pa/manifests/{entry.manifest_id}")
    assert store.status_code == 200 and store["Content-Type"] == "application/c2pa"
    with c2pa.Reader("application/c2pa", io.BytesIO(store.content)) as reader:
        assert json.loads(reader.json())["active_manifest"] == entry.manifest_id
    assert anon.get("/api/c2pa/manifests/urn:c2pa:nothing").status_code == 404

    stripped = attacks.strip_metadata(entry.job.output.path, tmp_path / "stripped.mp4")
    with open(stripped, "rb") as fh:
        assert anon.post("/api/c2pa/matches/byContent", {"file": fh}, format="multipart").status_code == 401
    client = APIClient()
    client.force_authenticate(creator)
    with open(stripped, "rb") as fh:
        by_content = client.post("/api/c2pa/matches/byContent", {"file": fh}, format="multipart")
    assert by_content.status_code == 200
    assert by_content.json()["matches"][0]["manifestId"] == entry.manifest_id
    raw = client.generic("POST", "/api/c2pa/matches/byContent", stripped.read_bytes(), content_type="video/mp4")
    assert raw.json()["matches"][0]["manifestId"] == entry.manifest_id
    with open(corpus_file("videos/voxceleb2_00373.mp4"), "rb") as fh:
        assert client.post("/api/c2pa/matches/byContent", {"file": fh}, format="multipart").json() == {
            "matches": []}
