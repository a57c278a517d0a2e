"""WSGI entry point."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veritalk.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
