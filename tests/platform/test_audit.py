"""The hash-chained audit log: intact chains verify; an edited, deleted or
reordered row is found by `audit_verify`."""
import json

import pytest

from audit.chain import record, verify_chain
from audit.models import AuditEvent
from tests.platform.conftest import run_command


@pytest.fixture
def chain(db, creator):
    for i in range(5):
        record("test.event", actor=creator, target=creator, data={"i": i, "text": "é"})
    return list(AuditEvent.objects.order_by("seq"))


def test_intact_chain(chain):
    assert verify_chain() == []
    rc, out, _ = run_command("audit_verify", "--json")
    assert rc == 0 and json.loads(out) == {"intact": True, "rows": 5, "problems": []}


def test_edited_row(chain):
    AuditEvent.objects.filter(seq=3).update(data={"i": 99, "text": "é"})
    assert [p.seq for p in verify_chain()] == [3]
    rc, _, err = run_command("audit_verify")
    assert rc == 1 and "row 3" in err


def test_deleted_row(chain):
    AuditEvent.objects.filter(seq=2).delete()
    problems = verify_chain()
    assert problems and problems[0].seq == 3


def test_reordered_rows(chain):
    a, b = AuditEvent.objects.get(seq=2), AuditEvent.objects.get(seq=4)
    AuditEvent.objects.filter(pk=a.pk).update(seq=-1)
    AuditEvent.objects.filter(pk=b.pk).update(seq=2)
    AuditEvent.objects.filter(pk=a.pk).update(seq=4)
    assert {p.seq for p in verify_chain()} >= {2}


def test_job_lifecycle_is_audited(db, consenting_subject, portrait, short_speech):
    from jobs.services import submit_job
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        job = submit_job(creator=consenting_subject.created_by, subject=consenting_subject, photo=p, audio=a)
    actions = list(AuditEvent.objects.filter(target_id=str(job.pk)).values_list("action", flat=True))
    assert actions == ["job.created", "policy.decision"]
    assert verify_chain() == []
