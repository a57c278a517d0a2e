"""The policy the platform runs (settings.VERITALK_POLICY_FILE, or the policies library's
default): the gate decides with it, and consent scopes (purposes, channels) and the
identity threshold are read from it."""
from __future__ import annotations

from django.conf import settings

from policies.engine import Policy, load_policy


def current_policy() -> Policy:
    return load_policy(settings.VERITALK_POLICY_FILE) if settings.VERITALK_POLICY_FILE else load_policy()
