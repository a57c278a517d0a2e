"""A moderator's detector run on any file (DESIGN.md's `detect`)."""
import json
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation

from audit.chain import record
from detection.model import DEFAULT_MODEL, ModelFileError, load
from detection.score import default_detector, score_file
from detection.video import VideoError
from moderation.services import detection_for_display
from veritalk.commands import DatabaseCommand


class Command(DatabaseCommand):
    help = ("Score a video with the detector: 0..1 (1 = generated), a label (never a claim that the file is real), "
            "the cue groups that weighed most in words, what the model was trained on and its measured rates, "
            "and a per-second timeline.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--model", default=None, help="a detector .skops file (default: the shipped model)")
        parser.add_argument("--language", default="en", help="language of the label and the cues (en or fr)")

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
        with translation.override(opts["language"]):
            result = detection_for_display(result)
        record("detection.run", data={"file": path.name, "score": result["score"], "label": result["label_key"],
                                      "model_version": result["model_version"]})
        if opts["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"{result['label']}: score {result['score']:.3f} (model {result['model_version']})")
        for c in result["cues"]:
            self.stdout.write(f"  {c['name']}: {c['sentence']}")
        self.stdout.write("trained on: " + (", ".join(f["name"] for f in result["trained_on"]) or "not recorded"))
        self.stdout.write(result["caveat"])
        self.stdout.write("per second: " + " ".join(f"{p['score']:.2f}" for p in result["timeline"]))
