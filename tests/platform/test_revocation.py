"""Revoking a consent after videos were made: the registry marks them revoked,
`verify` says so, the creator can no longer download them (the subject still can);
nobody but the subject (or a moderator) can revoke. The races with queued and
running jobs are in tests/policies/test_revocation_races.py."""
import pytest

from audit.models import AuditEvent
from consent.services import give_consent
from jobs.runner import run_job
from jobs.services import submit_job
from registry.models import RegistryEntry
from registry.services import verify_path
from tests.conftest import corpus_file
from tests.platform.conftest import as_user as api


@pytest.fixture
def bea(bea_account, creator):
    account = bea_account
    subject = account.subject_profile
    consent = give_consent(account=account, creator=creator, purposes=["education"], agreed=True)
    return account, subject, consent


@pytest.mark.django_db
def test_past_outputs_are_revoked(client, creator, bea, make_user):
    account, subject, consent = bea
    with open(corpus_file("photos/obama_2.jpg"), "rb") as p, open(corpus_file("audio/sr_english_en.wav"), "rb") as a:
        job = submit_job(creator=creator, subject=subject, photo=p, audio=a, controls={"size": 256},
                         purpose="education")
    job = run_job(str(job.pk))
    assert job.status == "succeeded" and job.verification["verdict"] == "authentic"

    for intruder in (creator, make_user("sam", role="subject")):
        assert api(intruder).post("/api/revocations/", {"consent": consent.pk}).status_code == 404
    r = api(account).post("/api/revocations/", {"consent": consent.pk, "reason": "changed my mind"})
    assert r.status_code == 201 and r.json()["revoked_outputs"] == [str(job.pk)] and r.json()["revoked_at"]

    entry = RegistryEntry.objects.get(job=job)
    assert entry.revoked and entry.revoked_at and entry.state == "issued"
    result = verify_path(job.output.path)
    assert result["verdict"] == "revoked" and result["registry"]["revoked"]
    client.force_login(creator)
    assert client.get(f"/jobs/{job.pk}/output.mp4").status_code == 410
    assert "revoked their consent" in client.get(f"/jobs/{job.pk}/").content.decode()
    client.force_login(account)
    assert client.get(f"/jobs/{job.pk}/output.mp4").status_code == 200  # the person shown keeps access
    assert AuditEvent.objects.filter(action="registry.revoked", target_id=str(entry.pk)).exists()
    # Revoking again changes nothing and records nothing new.
    count = AuditEvent.objects.count()
    assert api(account).post("/api/revocations/", {"consent": consent.pk}).status_code == 201
    assert AuditEvent.objects.count() == count
