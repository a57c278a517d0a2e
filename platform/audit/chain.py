"""Appending to and verifying the audit hash chain."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from veritalk.timing import add_wait

from .models import AuditAnchor, AuditEvent

GENESIS = "0" * 64


def row_digest(prev_hash: str, seq: int, created_at: str, actor: str, action: str, target_type: str,
               target_id: str, data: dict) -> str:
    """A row's hash: the previous row's hash and this row's content, canonical JSON."""
    body = json.dumps({"seq": seq, "created_at": created_at, "actor": actor, "action": action,
                       "target_type": target_type, "target_id": target_id, "data": data},
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _anchor_mac(seq: int, head: str) -> str:
    key = hashlib.sha256(b"veritalk-audit-anchor:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{seq}:{head}".encode(), hashlib.sha256).hexdigest()


def _actor_name(actor) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "username", None) or str(actor)


AUDIT_LOCK_KEY = 0x5645_5249_4C4F_47  # "VERILOG": the advisory lock that orders audit writers


def lock() -> None:
    """Take the audit log's lock for the rest of the transaction (PostgreSQL; SQLite
    transactions already start with the database's write lock)."""
    conn = transaction.get_connection()
    if conn.vendor == "postgresql" and conn.in_atomic_block:
        started = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_KEY])
        add_wait("lock", time.perf_counter() - started)


@contextmanager
def atomic():
    """transaction.atomic() whose first act is to take the audit log's lock.

    Every transaction that writes the log must take that lock before any row lock:
    with one lock order there is no deadlock between, say, a revocation (consent row,
    then the log) and a job submission (the log, then the consent row's foreign-key
    check at commit). Use it for every transaction that records audit events."""
    with transaction.atomic():
        lock()
        yield


def record(action: str, *, actor=None, target=None, data: dict | None = None) -> AuditEvent:
    """Append one event. `target` is a model instance (its class name and pk are kept)."""
    target_type = type(target).__name__.lower() if target is not None else ""
    target_id = str(target.pk) if target is not None else ""
    data = json.loads(json.dumps(data or {}, default=str))
    for attempt in range(8):
        try:
            with atomic():
                last = AuditEvent.objects.select_for_update().order_by("-seq").first()
                seq = last.seq + 1 if last else 1
                prev = last.hash if last else GENESIS
                created = timezone.now()
                h = row_digest(prev, seq, created.isoformat(), _actor_name(actor), action, target_type, target_id, data)
                event = AuditEvent.objects.create(seq=seq, created_at=created, actor=_actor_name(actor),
                                                  action=action, target_type=target_type, target_id=target_id,
                                                  data=data, prev_hash=prev, hash=h)
                AuditAnchor.objects.update_or_create(pk=1, defaults={"seq": seq, "hash": h,
                                                                     "mac": _anchor_mac(seq, h)})
                return event
        except IntegrityError:
            if attempt == 7:
                raise
    raise RuntimeError("unreachable")


def _edited_or_moved(ev: AuditEvent, written_as: dict[str, int]) -> str:
    """A row whose hash fits its content under another position was moved, not edited."""
    original = 1 if ev.prev_hash == GENESIS else written_as.get(ev.prev_hash, -1) + 1
    if original > 0 and original != ev.seq and row_digest(ev.prev_hash, original, ev.created_at.isoformat(), ev.actor,
                                                        ev.action, ev.target_type, ev.target_id, ev.data) == ev.hash:
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
        recomputed = row_digest(ev.prev_hash, ev.seq, ev.created_at.isoformat(), ev.actor, ev.action, ev.target_type,
                             ev.target_id, ev.data)
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
