"""Train the shipped detector on our own generations and the corpus's real videos."""
import json
import sys
from pathlib import Path

from django.core.management.base import CommandError

from audit.chain import record
from detection.corpus import DEFAULT_CACHE, DEFAULT_CORPUS
from detection.model import DEFAULT_MODEL
from detection.train import train
from veritalk.commands import DatabaseCommand


class Command(DatabaseCommand):
    help = ("Render training generations (cached), add the corpus's other generators' clips and real videos, "
            "extract features from clean and laundered copies, evaluate out-of-fold and leave-one-generator-out, "
            "fit and save the detector (skops) with its manifest.")

    def add_arguments(self, parser):
        parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
        parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="generations and feature cache")
        parser.add_argument("--out", default=str(DEFAULT_MODEL))
        parser.add_argument("--generations", type=int, default=40,
                            help="number of training generations (procedural motion; learned motion gets 2/5 as many)")
        parser.add_argument("--no-generate", action="store_true", help="use only the generations already cached")
        parser.add_argument("--cached-only", action="store_true",
                            help="train on the features already cached (variants not computed yet are left out)")
        parser.add_argument("--json", action="store_true", help="print the manifest's summary as one JSON object")

    def handle(self, *args, **opts):

        def log(msg):
            if not opts["json"]:
                self.stdout.write(msg)
            else:
                print(msg, file=sys.stderr, flush=True)
        try:
            m = train(corpus=Path(opts["corpus"]), cache=Path(opts["cache"]), out=Path(opts["out"]),
                      generate=not opts["no_generate"], n_generations=opts["generations"],
                      cached_only=opts["cached_only"], log=log)
        except FileNotFoundError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        summary = {"version": m["version"], "model": opts["out"], "thresholds": m["thresholds"],
                   "trained_on": m["trained_on"], "measured": m["measured"],
                   "held_out": m["evaluation"]["held_out"], "laundered_all": m["evaluation"]["laundered_all"],
                   "windows": m["data"]["windows"]}
        record("detection.trained", data={"version": m["version"], "model_sha256": m.get("model_sha256")})
        if opts["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(json.dumps(summary, indent=2))
