"""Who may do what with live sessions, from the platform's role checks
(accounts.permissions: is_creator, can_moderate)."""
from __future__ import annotations

from accounts.permissions import can_moderate, is_creator

__all__ = ["can_moderate", "can_start", "can_watch"]


def can_start(user) -> bool:
    """Creators (and admins) start sessions; whether the gate allows one is the policy's call."""
    return bool(user and is_creator(user))


def can_watch(user, session) -> bool:
    """The session's creator streams it; moderators and admins see it to take it down."""
    return bool(user and user.is_authenticated and (session.creator_id == user.pk or can_moderate(user)))
