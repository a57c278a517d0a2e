"""Start a Celery worker for this project (`make serve`, `make prod`, one per machine role)."""
from django.core.management.base import BaseCommand, CommandError

from jobs.backends import offered_queues
from jobs.cpus import CpuSpecError, batch_cpus, pin
from veritalk.celery import app


class Command(BaseCommand):
    help = "Run a Celery worker on the configured broker."

    def add_arguments(self, parser):
        parser.add_argument("--queues", default="intake,generation",
                            help="comma-separated: intake, generation, detection, gpu; or `offered`: every "
                                 "queue this deployment offers (gpu only with the diffusion weights)")
        parser.add_argument("--concurrency", type=int, default=1)
        parser.add_argument("--pool", default="solo", help="solo (default), prefork or threads")
        parser.add_argument("--loglevel", default="INFO")
        parser.add_argument("--hostname", help="node name, e.g. generation1@%%h")
        parser.add_argument("--cpus", default="all",
                            help="where the worker runs: all (default), spare (every CPU but the first, left "
                                 "to the web tier, when there are two or more) or a list such as 1,2-3")
        parser.add_argument("--beat", action="store_true",
                            help="also run the periodic scheduler (the job reaper); one per deployment")

    def handle(self, *args, **opts):
        queues = ",".join(offered_queues()) if opts["queues"] == "offered" else opts["queues"]
        try:
            cpus = batch_cpus(opts["cpus"])
        except CpuSpecError as exc:
            raise CommandError(str(exc)) from None
        pin(cpus)
        where = f" on CPUs {','.join(map(str, sorted(cpus)))}" if cpus is not None else ""
        self.stderr.write(f"worker on queues: {queues}{where}")
        argv = ["worker", "-Q", queues, "-c", str(opts["concurrency"]), "-P", opts["pool"],
                "-l", opts["loglevel"], "--without-gossip", "--without-mingle"]
        if opts["hostname"]:
            argv += ["-n", opts["hostname"]]
        if opts["beat"]:
            argv += ["-B"]
        app.worker_main(argv)
