"""Start a Celery worker for this project (what `make serve` runs beside the web server)."""
from django.core.management.base import BaseCommand

from veritalk.celery import app


class Command(BaseCommand):
    help = "Run a Celery worker on the configured broker."

    def add_arguments(self, parser):
        parser.add_argument("--queues", default="generation")
        parser.add_argument("--concurrency", type=int, default=1)
        parser.add_argument("--pool", default="solo", help="solo (default), prefork or threads")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, **opts):
        app.worker_main(["worker", "-Q", opts["queues"], "-c", str(opts["concurrency"]), "-P", opts["pool"],
                         "-l", opts["loglevel"], "--without-gossip", "--without-mingle"])
