"""Appending to and verifying the audit hash chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import AuditEvent

GENESIS = "0" * 64


def _digest(prev_hash: str, seq: int, created_at: str, actor: str, action: str, target_type: str,
            target_id: str, data: dict) -> str:
    body = json.dumps({"seq": seq, "created_at": created_at, "actor": actor, "action": action,
                       "target_type": target_type, "target_id": target_id, "data": data},
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _actor_name(actor) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "username", None) or str(actor)


def record(action: str, *, actor=None, target=None, data: dict | None = None) -> AuditEvent:
    """Append one event. `target` is a model instance (its class name and pk are kept)."""
    target_type = type(target).__name__.lower() if target is not None else ""
    target_id = str(target.pk) if target is not None else ""
    data = json.loads(json.dumps(data or {}, default=str))
    for attempt in range(8):
        try:
            with transaction.atomic():
                last = AuditEvent.objects.select_for_update().order_by("-seq").first()
                seq = last.seq + 1 if last else 1
                prev = last.hash if last else GENESIS
                created = timezone.now()
                h = _digest(prev, seq, created.isoformat(), _actor_name(actor), action, target_type, target_id, data)
                return AuditEvent.objects.create(seq=seq, created_at=created, actor=_actor_name(actor), action=action,
                                                 target_type=target_type, target_id=target_id, data=data,
                                                 prev_hash=prev, hash=h)
        except IntegrityError:
            if attempt == 7:
                raise
    raise RuntimeError("unreachable")


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def verify_chain() -> list[ChainProblem]:
    """Every break in the chain: edited rows, missing rows (gaps) and reordering."""
    problems: list[ChainProblem] = []
    prev_hash, expected_seq = GENESIS, 1
    for ev in AuditEvent.objects.order_by("seq").iterator():
        if ev.seq != expected_seq:
            problems.append(ChainProblem(ev.seq, f"expected row {expected_seq}: rows are missing before it"))
        if ev.prev_hash != prev_hash:
            problems.append(ChainProblem(ev.seq, "does not link to the previous row (deleted or reordered rows)"))
        recomputed = _digest(ev.prev_hash, ev.seq, ev.created_at.isoformat(), ev.actor, ev.action, ev.target_type,
                             ev.target_id, ev.data)
        if recomputed != ev.hash:
            problems.append(ChainProblem(ev.seq, "its content was edited after it was written"))
        prev_hash, expected_seq = ev.hash, ev.seq + 1
    return problems
