"""The named checks that rule files refer to.

Each check takes the facts dict and the rule's `params` table and returns None
when it passes, or the key of the reason it fails with (optionally with a dict
of extra values for the reason text). Checks declare the parameters they take,
so a rule file with a missing, unknown or mistyped parameter is refused when it
is loaded rather than when a job happens to reach that rule.

Facts (gathered by the platform, plain JSON-like values):
  now                  ISO time of the decision
  creator              {username, role, vetted, recent: {"<hours>": {"accepted": n, "denied": n}}}
  subject              {id, name, enrolled}
  consent              None or {id, purposes, channels, max_videos, videos_used, starts_at,
                       expires_at, revoked_at, elevated}
  purpose, channel     what the job says the video is for and where it will be shown
  photo                {face_count, bytes}
  audio                {seconds, bytes}
  identity             {distance}: the photo's face against the subject's enrolled face (None: no enrolment)
  protected            None or {id, name, distance}: the nearest face on the protected list
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable


@dataclass(frozen=True)
class Check:
    fn: Callable
    outcomes: tuple[str, ...]  # every failure key it can return: each needs a reason text
    params: dict[str, type]    # name -> float, int or list (of strings)


CHECKS: dict[str, Check] = {}


def check(*outcomes: str, **params: type):
    """Register a check under its function name with its failure keys and parameters."""
    def register(fn):
        CHECKS[fn.__name__] = Check(fn, outcomes, params)
        return fn
    return register


def _time(value) -> datetime | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@check("not_creator", "not_vetted")
def creator_vetted(facts: dict, params: dict):
    creator = facts["creator"]
    if creator.get("role") not in ("creator", "admin"):
        return "not_creator"
    return None if creator.get("vetted") else "not_vetted"


@check("no_purpose", "not_allowed", purposes=list)
def allowed_purpose(facts: dict, params: dict):
    purpose = (facts.get("purpose") or "").strip()
    if not purpose:
        return "no_purpose"
    return None if purpose in params["purposes"] else ("not_allowed", {"allowed": ", ".join(params["purposes"])})


@check("missing", "revoked", "expired", "not_started")
def consent_active(facts: dict, params: dict):
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


@check("purpose", "unknown_channel", "no_channel", "channel", "quota", channels=list)
def consent_in_scope(facts: dict, params: dict):
    """Purpose, channel and number of videos within what the subject granted.
    With no consent at all, consent_active is the rule that refuses."""
    consent = facts.get("consent")
    if not consent:
        return None
    purpose, channel = facts.get("purpose") or "", facts.get("channel") or ""
    granted = consent.get("purposes") or []
    if purpose and purpose not in granted:  # a blank purpose is allowed_purpose's to refuse
        return "purpose", {"granted": ", ".join(granted) or "none"}
    if channel and channel not in params["channels"]:
        return "unknown_channel", {"known": ", ".join(params["channels"])}
    channels = consent.get("channels") or []
    if channels and channel not in channels:
        return ("no_channel" if not channel else "channel"), {"granted": ", ".join(channels)}
    limit = consent.get("max_videos")
    if limit is not None and consent.get("videos_used", 0) >= limit:
        return "quota"
    return None


@check("not_enrolled", "mismatch", max_distance=float)
def identity_match(facts: dict, params: dict):
    """The photo must show the person who enrolled: consent from A never covers a photo of B."""
    if not facts["subject"].get("enrolled"):
        return "not_enrolled"
    distance = (facts.get("identity") or {}).get("distance")
    if distance is None:
        return "not_enrolled"
    return None if distance < params["max_distance"] else "mismatch"


@check("protected", max_distance=float)
def protected_person(facts: dict, params: dict):
    """A face on the protected list needs an elevated consent that an admin verified."""
    nearest = facts.get("protected")
    if not nearest or nearest.get("distance") is None or nearest["distance"] >= params["max_distance"]:
        return None
    consent = facts.get("consent") or {}
    return None if consent.get("elevated") else "protected"


@check("no_face", "several_faces")
def exactly_one_face(facts: dict, params: dict):
    count = facts["photo"]["face_count"]
    if count == 0:
        return "no_face"
    return None if count == 1 else "several_faces"


@check("photo_too_large", "audio_too_large", "audio_too_long",
       max_audio_seconds=float, max_photo_bytes=int, max_audio_bytes=int)
def input_limits(facts: dict, params: dict):
    if facts["photo"].get("bytes", 0) > params["max_photo_bytes"]:
        return "photo_too_large"
    if facts["audio"].get("bytes", 0) > params["max_audio_bytes"]:
        return "audio_too_large"
    if facts["audio"].get("seconds", 0) > params["max_audio_seconds"]:
        return "audio_too_long"
    return None


@check("unknown", "jobs", "denials", window_hours=int, max_jobs=int, max_denied=int)
def rate_limit(facts: dict, params: dict):
    """Accepted jobs and denied attempts per creator in a sliding window: the second
    limit slows down a creator probing the gate (for example the identity check)."""
    recent = (facts["creator"].get("recent") or {}).get(str(params["window_hours"]))
    if recent is None:
        return "unknown"  # the platform did not count this window: refuse rather than guess
    if recent.get("accepted", 0) >= params["max_jobs"]:
        return "jobs"
    if recent.get("denied", 0) >= params["max_denied"]:
        return "denials"
    return None
