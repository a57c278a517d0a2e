"""Start the periodic scheduler (Celery beat): runs the job reaper. One per deployment."""
from django.core.management.base import BaseCommand

from veritalk.celery import app


class Command(BaseCommand):
    help = "Run Celery beat (the job reaper's schedule)."

    def add_arguments(self, parser):
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, **opts):
        app.start(["beat", "-l", opts["loglevel"]])
