"""WebSocket authentication: the portal's session cookie (browsers), or the API's
`Authorization: Token <key>` header (API clients), as over HTTP."""
from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import AllowedHostsOriginValidator
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _user_for_token(key: str):
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token is not None and token.user.is_active else None


class _TokenAuth(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"authorization", b"").decode("latin-1")
        if raw.lower().startswith("token "):
            user = await _user_for_token(raw[6:].strip())
            if user is not None:
                scope = {**scope, "user": user}
        return await super().__call__(scope, receive, send)


def TokenOrSessionAuth(inner):
    """The session first; a valid token header replaces its (anonymous) user."""
    return AuthMiddlewareStack(_TokenAuth(inner))


class BrowserOriginCheck:
    """Cross-site WebSocket hijacking guard: a browser always sends an Origin header,
    and then it must be one of ALLOWED_HOSTS (the session cookie would otherwise let
    another site stream as the user). API clients send no Origin; they authenticate
    with a token header, which another site cannot make a browser send."""

    def __init__(self, inner):
        self.inner, self.checked = inner, AllowedHostsOriginValidator(inner)

    async def __call__(self, scope, receive, send):
        has_origin = any(name == b"origin" for name, _ in scope.get("headers") or [])
        return await (self.checked if has_origin else self.inner)(scope, receive, send)
