"""Per-user API throttling. DRF's classes read their rates once at import; these read
them from the settings on each request, so a deployment (or a test) can change them."""
from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def _rate(scope: str) -> str | None:
    return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(scope)


class UserThrottle(UserRateThrottle):
    """Requests per authenticated user (by user id), anonymous ones by address."""

    def get_rate(self):
        return _rate(self.scope)


class AnonThrottle(AnonRateThrottle):
    def get_rate(self):
        return _rate(self.scope)
