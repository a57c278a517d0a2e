"""ASGI entry point: the portal and API over HTTP, live sessions over WebSocket
(`live` in the Procfile runs it with uvicorn)."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [p for p in (str(ROOT / "platform"), str(ROOT)) if p not in sys.path]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veritalk.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_http = get_asgi_application()   # sets Django up before the consumers are imported

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from live.auth import BrowserOriginCheck, TokenOrSessionAuth  # noqa: E402
from live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_http,
    "websocket": BrowserOriginCheck(TokenOrSessionAuth(URLRouter(websocket_urlpatterns))),
})
