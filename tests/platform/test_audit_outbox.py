"""The audit outbox: events are written with their transaction (no lock) and linked into
the hash chain after the commit, in order and exactly once, also when processes race to
link them; a transaction that is not serialised never waits for one that is."""
import threading

import pytest
from django.db import connection, connections, transaction

from audit.chain import AUDIT_LOCK_KEY, LINK_LOCK_KEY, atomic, link_pending, record, verify_chain
from audit.models import AuditEvent, PendingAuditEvent
from tests.platform.conftest import run_command

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="advisory locks and concurrent writers: the PostgreSQL pass "
                                          "(DATABASE_URL=postgres://...) runs this")


def test_events_of_a_transaction_are_linked_once_it_commits(db, creator):
    with atomic():
        record("test.first", actor=creator, target=creator)
        record("test.second", actor=creator, target=creator, data={"n": 2})
    assert PendingAuditEvent.objects.count() == 0
    assert [e.action for e in AuditEvent.objects.order_by("seq")] == ["test.first", "test.second"]
    assert verify_chain() == []


def test_a_rolled_back_transaction_leaves_no_event(db, creator):
    record("test.kept", actor=creator)
    with pytest.raises(RuntimeError):
        with atomic(serialised=False):
            record("test.lost", actor=creator)
            raise RuntimeError("the change failed")
    assert [e.action for e in AuditEvent.objects.all()] == ["test.kept"]
    assert PendingAuditEvent.objects.count() == 0 and verify_chain() == []


def test_events_recorded_in_a_plain_transaction_are_linked_after_its_commit(transactional_db, creator):
    with transaction.atomic():
        record("test.inside", actor=creator)
        assert AuditEvent.objects.count() == 0  # still in the outbox: linked after the commit
    assert [e.action for e in AuditEvent.objects.all()] == ["test.inside"]


@postgres_only
def test_rows_left_by_a_lost_race_are_linked_by_the_next_linker(transactional_db, creator):
    """Another process holds the link lock (it is linking): record() does not wait for it, its row
    stays in the outbox, and the next linker (any writer, the reaper, audit_verify) links it."""
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [LINK_LOCK_KEY])
        record("test.while_linking", actor=creator)
        assert PendingAuditEvent.objects.count() == 1 and AuditEvent.objects.count() == 0
        with holder.cursor() as cur:
            cur.execute("COMMIT")
    finally:
        holder.close()
    rc, out, _ = run_command("audit_verify", "--json")
    assert rc == 0 and '"pending": 0' in out
    assert [e.action for e in AuditEvent.objects.all()] == ["test.while_linking"]


@postgres_only
def test_an_unserialised_transaction_does_not_wait_for_a_serialised_one(transactional_db, creator):
    """A worker's transaction holds the serialising lock (say its niced process is descheduled):
    a submission's transaction (serialised=False) still commits, and its events are linked."""
    holder = connections.create_connection("default")
    done = threading.Event()

    def submit():
        try:
            with atomic(serialised=False):
                record("test.submitted", actor=creator)
            done.set()
        finally:
            connections.close_all()

    try:
        with holder.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_KEY])
        t = threading.Thread(target=submit)
        t.start()
        assert done.wait(30), "the unserialised transaction waited for the serialising lock"
        t.join()
        with holder.cursor() as cur:
            cur.execute("COMMIT")
    finally:
        holder.close()
    assert [e.action for e in AuditEvent.objects.all()] == ["test.submitted"]


@postgres_only
def test_concurrent_writers_link_every_event_once_in_one_chain(transactional_db, creator):
    writers, events = 6, 25
    errors = []

    def write(w):
        try:
            for i in range(events):
                with atomic(serialised=(i % 3 == 0)):  # a mix, as web requests and workers write
                    record("test.concurrent", actor=creator, data={"w": w, "i": i})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    link_pending()
    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "data"))
    assert [s for s, _ in rows] == list(range(1, writers * events + 1))
    assert sorted((d["w"], d["i"]) for _, d in rows) == [(w, i) for w in range(writers) for i in range(events)]
    for w in range(writers):  # one writer's events keep their order
        assert [d["i"] for _, d in rows if d["w"] == w] == list(range(events))
    assert PendingAuditEvent.objects.count() == 0 and verify_chain() == []


def test_a_web_request_links_its_events_after_its_response(db, creator, client):
    """The web tier defers the link to request_finished (audit.middleware): by the time the
    client holds the response the events are in the chain, and nothing is left pending."""
    client.force_login(creator)
    before = AuditEvent.objects.count()
    response = client.post("/api/token/", {}, content_type="application/json")
    assert response.status_code in (200, 201), response.content
    assert PendingAuditEvent.objects.count() == 0
    assert AuditEvent.objects.count() > before and verify_chain() == []


def test_a_request_links_only_once_its_response_is_closed(db, creator):
    from django.core.signals import request_finished
    from django.db import close_old_connections
    from django.http import HttpResponse
    from django.test import RequestFactory

    from audit.middleware import LinkAfterResponseMiddleware
    seen = {}

    def view(request):
        record("test.in_request", actor=creator)
        seen["pending"] = PendingAuditEvent.objects.count()
        return HttpResponse("ok")

    response = LinkAfterResponseMiddleware(view)(RequestFactory().get("/"))
    assert seen["pending"] == 1 and AuditEvent.objects.count() == 0
    # What the WSGI server does once the response is sent (request_finished); as Django's test
    # client does, without closing the test's database connection.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert PendingAuditEvent.objects.count() == 0
    assert [e.action for e in AuditEvent.objects.all()] == ["test.in_request"]
