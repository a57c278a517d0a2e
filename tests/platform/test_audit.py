"""The hash-chained audit log: intact chains verify; an edited, deleted (anywhere,
the newest rows included), inserted or reordered row makes `audit_verify` exit 1
and name the row."""
import json

import pytest
from django.utils import timezone

from audit.chain import record, verify_chain
from audit.models import AuditAnchor, AuditEvent
from tests.platform.conftest import run_command


@pytest.fixture
def chain(db, creator):
    for i in range(6):
        record("test.event", actor=creator, target=creator, data={"i": i, "text": "é"})
    return list(AuditEvent.objects.order_by("seq"))


def named(seq: int) -> None:
    """audit_verify exits 1 and its report names row `seq`."""
    rc, _, err = run_command("audit_verify")
    assert rc == 1 and f"row {seq}:" in err, err
    rc, out, _ = run_command("audit_verify", "--json")
    report = json.loads(out)
    assert rc == 1 and not report["intact"] and seq in [p["seq"] for p in report["problems"]]


def test_intact_chain(chain):
    assert verify_chain() == []
    rc, out, _ = run_command("audit_verify", "--json")
    assert rc == 0 and json.loads(out) == {"intact": True, "rows": 6, "pending": 0, "problems": []}


@pytest.mark.parametrize("field,value", [
    ("data", {"i": 99, "text": "é"}), ("actor", "mallory"), ("action", "test.other"), ("target_id", "2"),
    ("created_at", timezone.now()),
])
def test_edited_row(chain, field, value):
    AuditEvent.objects.filter(seq=3).update(**{field: value})
    assert [(p.seq, p.problem) for p in verify_chain()] == [(3, "its content was edited after it was written")]
    named(3)


def test_edited_newest_row_with_its_hash_recomputed(chain):
    """Rewriting the newest row and its hash keeps the chain valid, but not its keyed anchor."""
    from audit.chain import row_digest
    ev = AuditEvent.objects.get(seq=6)
    new_hash = row_digest(ev.prev_hash, 6, ev.created_at.isoformat(), "mallory", ev.action, ev.target_type,
                       ev.target_id, ev.data)
    AuditEvent.objects.filter(seq=6).update(actor="mallory", hash=new_hash)
    assert [p.seq for p in verify_chain()] == [6]
    named(6)


@pytest.mark.parametrize("seq", [1, 3])
def test_deleted_row(chain, seq):
    AuditEvent.objects.filter(seq=seq).delete()
    problems = verify_chain()
    assert problems[0].seq == seq and "missing (deleted)" in problems[0].problem
    named(seq)


def test_deleted_newest_rows(chain):
    AuditEvent.objects.filter(seq__gte=5).delete()
    problems = verify_chain()
    assert [(p.seq, p.problem) for p in problems] == [
        (5, "missing (deleted): the log ends at row 4 but its anchor records row 6; rows 5-6 are gone")]
    named(5)


def test_deleted_newest_row_and_anchor(chain):
    AuditEvent.objects.filter(seq=6).delete()
    AuditAnchor.objects.all().delete()
    assert [p.seq for p in verify_chain()] == [5]
    named(5)


def test_forged_anchor(chain):
    AuditEvent.objects.filter(seq=6).delete()
    last = AuditEvent.objects.get(seq=5)
    AuditAnchor.objects.filter(pk=1).update(seq=5, hash=last.hash)  # without the key the MAC cannot follow
    assert "anchor was altered" in verify_chain()[0].problem
    named(5)


def test_reordered_rows(chain):
    a, b = AuditEvent.objects.get(seq=2), AuditEvent.objects.get(seq=4)
    AuditEvent.objects.filter(pk=a.pk).update(seq=-1)
    AuditEvent.objects.filter(pk=b.pk).update(seq=2)
    AuditEvent.objects.filter(pk=a.pk).update(seq=4)
    problems = {p.seq: p.problem for p in verify_chain()}
    assert problems[2] == "moved: it was written as row 4 (rows reordered)"
    assert problems[4] == "moved: it was written as row 2 (rows reordered)"
    assert set(problems) == {2, 3, 4, 5}  # rows 3 and 5 no longer follow the rows before them
    named(2)
    named(4)


def test_inserted_row(chain):
    """A forged row with a valid hash slipped in after row 3: the row after it no longer fits its place."""
    from audit.chain import row_digest
    for ev in AuditEvent.objects.filter(seq__gte=4).order_by("-seq"):
        AuditEvent.objects.filter(pk=ev.pk).update(seq=ev.seq + 1)
    prev = AuditEvent.objects.get(seq=3)
    created = timezone.now()
    h = row_digest(prev.hash, 4, created.isoformat(), "mallory", "consent.granted", "", "", {})
    AuditEvent.objects.create(seq=4, created_at=created, actor="mallory", action="consent.granted", data={},
                              prev_hash=prev.hash, hash=h)
    problems = {p.seq: p.problem for p in verify_chain()}
    assert problems[5] == "moved: it was written as row 4 (rows reordered)"
    named(5)


def test_job_lifecycle_is_audited(db, consenting_subject, portrait, short_speech):
    from jobs.services import submit_job
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        job = submit_job(creator=consenting_subject.created_by, subject=consenting_subject, photo=p, audio=a,
                         purpose="test")
    events = list(AuditEvent.objects.filter(target_id=str(job.pk)))
    assert [e.action for e in events] == ["job.created", "policy.decision"]
    decision = events[1].data
    assert decision["allowed"] and decision["stage"] == "submission" and decision["policy_version"] == "2026.12-1"
    assert decision["facts"]["identity"]["distance"] == 0.0  # the enrolment photo itself
    assert verify_chain() == []
