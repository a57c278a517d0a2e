"""Who may do what with live sessions, from the role checks the platform already has
(jobs.api.is_creator, accounts.services.can_moderate). Kept in one small place so it
moves in one piece when the platform gains its single permissions module."""
from __future__ import annotations

from accounts.services import can_moderate
from jobs.api import is_creator

__all__ = ["can_moderate", "can_start", "can_watch"]


def can_start(user) -> bool:
    """Creators (and admins) start sessions; whether the gate allows one is the policy's call."""
    return bool(user and is_creator(user))


def can_watch(user, session) -> bool:
    """The session's creator streams it; moderators and admins see it to take it down."""
    return bool(user and user.is_authenticated and (session.creator_id == user.pk or can_moderate(user)))
