"""Train the learned motion model on the corpus' real videos (reproducible), or
check that the committed weights still give their recorded metrics."""
from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Train the learned motion model (weights + docs/learned_motion.md), or --check the committed weights."

    def add_arguments(self, parser):
        parser.add_argument("--steps", type=int, default=2500)
        parser.add_argument("--batch", type=int, default=32)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--jaw-weight", type=float, default=1.0,
                            help="loss weight of the jaw channel (the one that carries the sync)")
        parser.add_argument("--out", type=Path, help="weights file (default: the committed one)")
        parser.add_argument("--report", type=Path, default=Path(settings.ROOT_DIR) / "docs" / "learned_motion.md")
        parser.add_argument("--check", action="store_true",
                            help="re-evaluate the committed weights and compare with their recorded metrics")
        parser.add_argument("--reevaluate", action="store_true",
                            help="keep the committed weights, re-fit the jaw filter on the training videos, "
                                 "re-evaluate and rewrite their metadata and the report")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        from generation.learned_motion import training  # noqa: PLC0415 - heavy (torch): only when training
        from generation.learned_motion.report import render, verdict  # noqa: PLC0415 - heavy (torch): only when training
        log = (lambda m: None) if opts["json"] else (lambda m: self.stderr.write(m))
        if opts["check"]:
            result = training.check(opts["out"] or training.WEIGHTS)
            summary = {k: result[k] for k in ("recorded", "measured", "max_diff", "ok")}
            self.stdout.write(json.dumps(summary) if opts["json"] else
                              f"recorded {result['recorded']}\nmeasured {result['measured']}\nok: {result['ok']}")
            if not result["ok"]:
                raise CommandError("the committed weights no longer give their recorded metrics", returncode=1)
            return
        if opts["reevaluate"]:
            result = training.reevaluate(opts["out"] or training.WEIGHTS, log=log)
            command = "python manage.py train_motion --reevaluate"
            opts["report"].parent.mkdir(parents=True, exist_ok=True)
            opts["report"].write_text(render(result, command))
            out = {"weights": result["weights"], "report": str(opts["report"]),
                   "verdict": verdict(result["evaluation"]), "distances": result["meta"]["distances"],
                   "jaw_smoothing": result["meta"]["jaw_smoothing"]}
            self.stdout.write(json.dumps(out, default=float, indent=None if opts["json"] else 1))
            return
        try:
            result = training.run(out=opts["out"] or training.WEIGHTS, log=log,
                                  settings=training.TrainSettings(steps=opts["steps"], batch=opts["batch"],
                                                                  seed=opts["seed"], jaw_weight=opts["jaw_weight"]))
        except FileNotFoundError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        command = (f"python manage.py train_motion --steps {opts['steps']} --batch {opts['batch']} "
                   f"--seed {opts['seed']}"
                   + (f" --jaw-weight {opts['jaw_weight']}" if opts["jaw_weight"] != 1.0 else ""))
        opts["report"].parent.mkdir(parents=True, exist_ok=True)
        opts["report"].write_text(render(result, command))
        tiny = training.tiny_run(seed=opts["seed"])
        training.TINY_RUN.write_text(json.dumps(tiny, indent=1) + "\n")
        out = {"weights": result["weights"], "report": str(opts["report"]), "params": result["params"],
               "final_loss": result["final_loss"], "verdict": verdict(result["evaluation"]),
               "distances": result["meta"]["distances"], "tiny_run": tiny}
        self.stdout.write(json.dumps(out, default=float) if opts["json"] else json.dumps(out, indent=1, default=float))
