"""The named checks that rule files refer to. Each takes the facts dict and
returns None when it passes, or the key of the reason it fails with."""
from __future__ import annotations

from datetime import datetime


def _time(value) -> datetime | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def creator_vetted(facts: dict) -> str | None:
    creator = facts["creator"]
    if creator.get("role") not in ("creator", "admin"):
        return "not_creator"
    return None if creator.get("vetted") else "not_vetted"


def consent_active(facts: dict) -> str | None:
    consent = facts.get("consent")
    if not consent:
        return "missing"
    now = _time(facts["now"])
    if consent.get("revoked_at"):
        return "revoked"
    expires = _time(consent.get("expires_at"))
    if expires is not None and expires <= now:
        return "expired"
    starts = _time(consent.get("starts_at"))
    if starts is not None and starts > now:
        return "not_started"
    return None


def exactly_one_face(facts: dict) -> str | None:
    count = facts["photo"]["face_count"]
    if count == 0:
        return "no_face"
    return None if count == 1 else "several_faces"


CHECKS = {
    "creator_vetted": creator_vetted,
    "consent_active": consent_active,
    "exactly_one_face": exactly_one_face,
}
