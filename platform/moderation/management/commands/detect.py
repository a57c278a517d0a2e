"""A moderator's detector run on any file (DESIGN.md's `detect`)."""
import json
from pathlib import Path

from django.core.management.base import CommandError

from audit.chain import record
from detection.model import DEFAULT_MODEL, ModelFileError, load
from detection.score import default_detector, score_file
from detection.video import VideoError
from veritalk.commands import DatabaseCommand


class Command(DatabaseCommand):
    help = "Score a video with the detector: 0..1 (1 = generated), a label and a per-second timeline."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--model", default=None, help="a detector .skops file (default: the shipped model)")

    def handle(self, *args, **opts):

        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}", returncode=2)
        try:
            det = load(opts["model"]) if opts["model"] else default_detector(DEFAULT_MODEL)
            result = score_file(path, det)
        except ModelFileError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        except VideoError as exc:
            raise CommandError(f"{path.name}: {exc}", returncode=2) from exc
        record("detection.run", data={"file": path.name, "score": result["score"], "label": result["label"],
                                      "model_version": result["model_version"]})
        if opts["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"{result['label']}: score {result['score']:.3f} (model {result['model_version']})")
        self.stdout.write("per second: " + " ".join(f"{p['score']:.2f}" for p in result["timeline"]))
        for f in result["top_features"]:
            self.stdout.write(f"  {f['feature']}: {f['value']} (typical real {f['typical_real']}), "
                              f"effect {f['effect']:+.3f}")
