"""Appending to and verifying the audit hash chain."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from veritalk.timing import add_wait

from .models import AuditAnchor, AuditEvent, PendingAuditEvent

GENESIS = "0" * 64


def row_digest(prev_hash: str, seq: int, created_at: str, actor: str, action: str, target_type: str,
               target_id: str, data: dict) -> str:
    """A row's hash: the previous row's hash and this row's content, canonical JSON."""
    body = json.dumps({"seq": seq, "created_at": created_at, "actor": actor, "action": action,
                       "target_type": target_type, "target_id": target_id, "data": data},
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def event_digest(prev_hash: str, seq: int, ev) -> str:
    """row_digest of an event's content (an AuditEvent or an outbox row) at position `seq`."""
    return row_digest(prev_hash, seq, ev.created_at.isoformat(), ev.actor, ev.action, ev.target_type, ev.target_id,
                      ev.data)


def _anchor_mac(seq: int, head: str) -> str:
    key = hashlib.sha256(b"veritalk-audit-anchor:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{seq}:{head}".encode(), hashlib.sha256).hexdigest()


def _actor_name(actor) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "username", None) or str(actor)


AUDIT_LOCK_KEY = 0x5645_5249_4C4F_47  # "VERILOG": the advisory lock that orders serialised writers
LINK_LOCK_KEY = 0x5645_5249_4C49_4E  # "VERILIN": held only while outbox rows are linked into the chain
LINK_BATCH = 500


def lock() -> None:
    """Take the serialising lock for the rest of the transaction (PostgreSQL; SQLite
    transactions already start with the database's write lock)."""
    conn = transaction.get_connection()
    if conn.vendor == "postgresql" and conn.in_atomic_block:
        started = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_KEY])
        add_wait("lock", time.perf_counter() - started)


def _effectively_outermost(conn) -> bool:
    """No transaction is open, or only a test case's wrapping one (Django's own notion,
    as for durable blocks): what this connection wrote is as committed as it will be."""
    return not conn.in_atomic_block or all(getattr(b, "_from_testcase", False) for b in conn.atomic_blocks)


_deferred: ContextVar[list | None] = ContextVar("veritalk_audit_links_deferred", default=None)


def defer_links():
    """Until end_deferral(token), links that would follow a commit in this context are
    left for later: the web tier links after its response has been sent (audit.middleware)."""
    return _deferred.set([])


def end_deferral(token) -> bool:
    """Stop deferring; True when a link was left for later."""
    box = _deferred.get()
    _deferred.reset(token)
    return bool(box)


def _link_after_commit() -> None:
    conn = transaction.get_connection()
    if _effectively_outermost(conn):
        box = _deferred.get()
        if box is not None:
            box.append(True)
        else:
            link_pending()
    elif not getattr(conn, "veritalk_audit_depth", 0):
        transaction.on_commit(_link_after_commit)


@contextmanager
def atomic(*, serialised: bool = True):
    """transaction.atomic() for a change that records audit events; its events are
    linked into the chain once it commits.

    `serialised` (the default) first takes one lock that orders every such transaction:
    with one lock order there is no deadlock between, say, a revocation (consent row,
    then jobs) and a release (job, then consent row). A transaction whose only row locks
    are on rows it creates (a submission: a new job and its events) cannot take part in
    such a cycle and passes serialised=False: it then waits for nobody (the events go to
    the outbox, which needs no lock)."""
    conn = transaction.get_connection()
    conn.veritalk_audit_depth = getattr(conn, "veritalk_audit_depth", 0) + 1
    try:
        with transaction.atomic():
            if serialised:
                lock()
            yield
    finally:
        conn.veritalk_audit_depth -= 1
    _link_after_commit()


def record(action: str, *, actor=None, target=None, data: dict | None = None) -> PendingAuditEvent:
    """Record one event with the transaction it belongs to: it is written to the outbox
    (no lock) and linked into the hash chain after the commit (link_pending). Outside a
    transaction it is linked at once."""
    target_type = type(target).__name__.lower() if target is not None else ""
    target_id = str(target.pk) if target is not None else ""
    data = json.loads(json.dumps(data or {}, default=str))
    event = PendingAuditEvent.objects.create(created_at=timezone.now(), actor=_actor_name(actor), action=action,
                                             target_type=target_type, target_id=target_id, data=data)
    _link_after_commit()
    return event


def _try_link_lock() -> bool:
    conn = transaction.get_connection()
    if conn.vendor != "postgresql":
        return True  # SQLite: the transaction (IMMEDIATE) already holds the database's write lock
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LINK_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _link_batch() -> int | None:
    """Link up to LINK_BATCH outbox rows in one short transaction; None when another
    process holds the link lock (it re-checks the outbox after releasing it)."""
    with transaction.atomic():
        if not _try_link_lock():
            return None
        pending = list(PendingAuditEvent.objects.order_by("id")[:LINK_BATCH])
        if not pending:
            return 0
        last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
        rows = []
        for p in pending:
            seq += 1
            h = event_digest(prev, seq, p)
            rows.append(AuditEvent(seq=seq, created_at=p.created_at, actor=p.actor, action=p.action,
                                   target_type=p.target_type, target_id=p.target_id, data=p.data, prev_hash=prev,
                                   hash=h))
            prev = h
        AuditEvent.objects.bulk_create(rows)
        PendingAuditEvent.objects.filter(id__in=[p.id for p in pending]).delete()
        AuditAnchor.objects.update_or_create(pk=1, defaults={"seq": seq, "hash": prev, "mac": _anchor_mac(seq, prev)})
        return len(rows)


def link_pending() -> int:
    """Move committed outbox rows into the hash chain, oldest first; returns how many.

    Never waits: when another process is linking, this returns and that process, after
    releasing the link lock, looks at the outbox again and links what was committed
    meanwhile (so no row is left behind by a lost race). Rows of a process that died
    between its commit and its link are linked by the next writer, the reaper
    (jobs.reap) or `audit_verify`."""
    linked = 0
    while (n := _link_batch()) is not None:
        linked += n
        if n < LINK_BATCH and not PendingAuditEvent.objects.exists():
            break
    return linked


def _edited_or_moved(ev: AuditEvent, written_as: dict[str, int]) -> str:
    """A row whose hash fits its content under another position was moved, not edited."""
    original = 1 if ev.prev_hash == GENESIS else written_as.get(ev.prev_hash, -1) + 1
    if original > 0 and original != ev.seq and event_digest(ev.prev_hash, original, ev) == ev.hash:
        return f"moved: it was written as row {original} (rows reordered)"
    return "its content was edited after it was written"


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def verify_chain() -> list[ChainProblem]:
    """Every break in the chain: edited rows, missing rows (gaps, and missing newest
    rows via the anchor), reordered rows. Each problem names the row it concerns."""
    problems: list[ChainProblem] = []
    written_as = {h: seq for seq, h in AuditEvent.objects.values_list("seq", "hash").iterator()}
    prev_hash, expected_seq, last = GENESIS, 1, None
    for ev in AuditEvent.objects.order_by("seq").iterator():
        if ev.seq > expected_seq:
            gone = f"row {expected_seq} is" if ev.seq == expected_seq + 1 else f"rows {expected_seq}-{ev.seq - 1} are"
            problems.append(ChainProblem(expected_seq, f"missing (deleted): row {ev.seq} follows row "
                                                       f"{expected_seq - 1}; {gone} gone"))
        recomputed = event_digest(ev.prev_hash, ev.seq, ev)
        if recomputed != ev.hash:
            problems.append(ChainProblem(ev.seq, _edited_or_moved(ev, written_as)))
        elif ev.prev_hash != prev_hash:
            problems.append(ChainProblem(ev.seq, "does not link to the row before it (rows deleted, inserted "
                                                 "or reordered)"))
        prev_hash, expected_seq, last = ev.hash, ev.seq + 1, ev
    anchor = AuditAnchor.objects.filter(pk=1).first()
    if anchor is None:
        if last is not None:
            problems.append(ChainProblem(last.seq, "the chain's anchor is missing (deleted)"))
        return problems
    if not hmac.compare_digest(anchor.mac, _anchor_mac(anchor.seq, anchor.hash)):
        problems.append(ChainProblem(anchor.seq, "the chain's anchor was altered (its MAC does not match)"))
    elif last is None or anchor.seq > last.seq:
        first = last.seq + 1 if last else 1
        gone = f"row {first} is" if first == anchor.seq else f"rows {first}-{anchor.seq} are"
        problems.append(ChainProblem(first, f"missing (deleted): the log ends at row {last.seq if last else 0} "
                                            f"but its anchor records row {anchor.seq}; {gone} gone"))
    elif anchor.seq == last.seq and anchor.hash != last.hash:
        problems.append(ChainProblem(last.seq, "the newest row is not the one the anchor records (replaced)"))
    elif anchor.seq < last.seq:
        problems.append(ChainProblem(anchor.seq + 1, f"rows {anchor.seq + 1}-{last.seq} were added after the "
                                                     "anchor (written around the chain)"))
    return problems
