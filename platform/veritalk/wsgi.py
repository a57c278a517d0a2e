"""WSGI entry point."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veritalk.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

if os.environ.get("VERITALK_PRELOAD_MODELS", "1") == "1":
    # With `gunicorn --preload` the face models load once, before the workers fork,
    # so no request pays for a cold start.
    from django.urls import get_resolver

    from generation.face import warm_up

    warm_up()
    # The URLconf imports every view module (PyAV, the detector, ...: about 1.8 s of CPU):
    # here, once, instead of in the first request of each worker.
    _ = get_resolver().url_patterns
