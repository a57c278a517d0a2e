"""WebSocket authentication: the portal's session cookie (browsers), or the API's
`Authorization: Token <key>` header (API clients), as over HTTP."""
from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware


@database_sync_to_async
def _user_for_token(key: str):
    from rest_framework.authtoken.models import Token
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
