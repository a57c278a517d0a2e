"""Object-level permissions across the whole API, read from the schema: an auditor
only verifies (every other mutating operation is refused and writes nothing), and a
creator sees only their own subjects, jobs, invitations and consents."""
import pytest

from audit.models import AuditEvent
from consent.invitations import create_invitation
from consent.models import Subject
from consent.services import grant_consent
from tests.platform.conftest import as_user
from tests.platform.test_api_coverage import MUTATING, READ_ONLY, schema_operations

AUDITOR_MAY = {"verify_create", "token_create", "token_destroy", "c2pa_matches_byContent_create"} | READ_ONLY
# Operations on one object that answer for others' objects as if they did not exist.
NOT_AMONG_YOURS = {"revocations_create"}


@pytest.mark.django_db
def test_auditors_verify_and_do_nothing_else(client, make_user, consenting_subject):
    auditor = as_user(make_user("audrey", role="auditor", vetted=False))
    consent = consenting_subject.consents.get()
    for op_id, (method, path, _) in sorted(schema_operations(client).items()):
        if method not in MUTATING or op_id in AUDITOR_MAY:
            continue
        url = path.replace("{id}", str(consent.pk))
        before = AuditEvent.objects.count()
        r = getattr(auditor, method)(url, {"consent": consent.pk, "note": "x", "username": "ana",
                                           "display_name": "X", "token": "x"}, format="json")
        if op_id in NOT_AMONG_YOURS:
            assert r.status_code == 404 and "among yours" in r.json()["detail"], (op_id, r.status_code)
        else:
            assert r.status_code == 403, (op_id, r.status_code, r.content[:200])
        assert AuditEvent.objects.count() <= before + 1, op_id  # at most the refusal itself
    consent.refresh_from_db()
    assert consent.revoked_at is None and consent.elevated_at is None


@pytest.mark.django_db
def test_creators_see_only_their_own(make_user, creator, consenting_subject):
    eve = make_user("eve")
    theirs = Subject.objects.create(display_name="Zed", created_by=eve)
    grant_consent(subject=theirs, creator=eve, purposes=["test"])
    create_invitation(creator=eve, display_name="Yan")
    ana = as_user(creator)
    assert [s["display_name"] for s in ana.get("/api/subjects/").json()["results"]] == ["Bea"]
    assert ana.get(f"/api/subjects/{theirs.pk}/").status_code == 404
    assert {g["creator"] for g in ana.get("/api/grants/").json()["results"]} == {"ana"}
    assert ana.get("/api/invitations/").json()["count"] == 0
    assert {g["creator"] for g in as_user(eve).get("/api/grants/").json()["results"]} == {"eve"}
