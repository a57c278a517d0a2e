"""The Celery app. With no broker configured it uses kombu's filesystem
transport under var/broker, so `make serve` and `make demo` need no server."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veritalk.settings")

app = Celery("veritalk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
