"""One job through the gate; waits for it (DESIGN.md's `generate`)."""
from __future__ import annotations

import contextlib
import json
import shutil
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext_noop

from consent.models import Subject
from consent.services import subjects_for
from generation.errors import InputError
from jobs.dispatch import queue_for
from jobs.management.control_flags import add_control_arguments, controls_from_options
from jobs.services import submit_job
from jobs.worker import broker_is_embedded, embedded_worker, wait_for_job
from veritalk.commands import DatabaseCommand

EXIT_FAILED, EXIT_REJECTED, EXIT_DENIED = 1, 2, 3


def find_subject(creator, ref: str) -> Subject:
    subjects = subjects_for(creator)  # registered by the creator or who accepted their invitation
    found = subjects.filter(pk=int(ref)).first() if ref.isdigit() else None
    found = found or subjects.filter(display_name=ref).first()
    if found is None:
        raise CommandError(f"creator {creator.username!r} has no subject {ref!r}")
    return found


def run_generation(*, creator, subject, photo: Path, audio: Path, out: Path | None, controls: dict,
                   purpose: str, worker: str, timeout: float, channel: str = "") -> dict:
    """Submit, wait, copy the output to `out`; the JSON object of `generate --json`."""
    started = time.monotonic()
    for p in (photo, audio):
        if not p.is_file():
            raise InputError(gettext_noop("no such file: %(path)s"), field="photo" if p is photo else "audio",
                             params={"path": str(p)})
    with open(photo, "rb") as ph, open(audio, "rb") as au:
        job = submit_job(creator=creator, subject=subject, photo=ph, audio=au, controls=controls, purpose=purpose,
                         channel=channel)
    if not job.is_final:
        use_embedded = worker == "embedded" or (worker == "auto" and broker_is_embedded())
        with embedded_worker((queue_for(job),)) if use_embedded else contextlib.nullcontext():
            job = wait_for_job(job.pk, timeout=timeout)
    output = None
    if job.status == job.Status.SUCCEEDED and job.output:
        output = Path(job.output.path)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(output, out)
            output = out
    decision = job.decision or {}
    return {
        "job": str(job.pk),
        "status": job.status,
        "decision": {"allowed": decision.get("allowed", False), "reasons": decision.get("reasons", []),
                     "policy_version": decision.get("policy_version")},
        "output": str(output.resolve()) if output else None,
        "error": job.error,
        "seconds": round(time.monotonic() - started, 2),
    }


class Command(DatabaseCommand):
    help = "Generate one talking-portrait video through the policy gate and wait for it."

    def add_arguments(self, parser):
        parser.add_argument("--creator", required=True, help="creator username")
        parser.add_argument("--subject", required=True, help="subject id or display name")
        parser.add_argument("--photo", required=True, type=Path)
        parser.add_argument("--audio", required=True, type=Path)
        parser.add_argument("--out", type=Path, help="copy the signed output here")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        add_control_arguments(parser)

    def handle(self, *args, **opts):
        creator = get_user_model().objects.filter(username=opts["creator"]).first()
        if creator is None:
            raise CommandError(f"no user {opts['creator']!r}")
        subject = find_subject(creator, opts["subject"])
        try:
            result = run_generation(creator=creator, subject=subject, photo=opts["photo"], audio=opts["audio"],
                                    out=opts["out"], controls=controls_from_options(opts), purpose=opts["purpose"],
                                    worker=opts["worker"], timeout=opts["timeout"], channel=opts["channel"])
        except InputError as exc:
            if opts["json"]:
                self.stdout.write(json.dumps({"job": None, "status": "rejected", "error": exc.as_dict(),
                                              "decision": None, "output": None, "seconds": 0}))
            raise CommandError(f"{exc.field or 'input'}: {exc.message}", returncode=EXIT_REJECTED) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"job {result['job']}: {result['status']}")
            for reason in result["decision"]["reasons"]:
                self.stdout.write(f"  denied: {reason}")
            if result["output"]:
                self.stdout.write(f"  output: {result['output']}")
        if result["status"] == "denied":
            raise CommandError("denied: " + " ".join(result["decision"]["reasons"]), returncode=EXIT_DENIED)
        if result["status"] != "succeeded":
            raise CommandError(f"job {result['status']}: {(result['error'] or {}).get('message', '')}",
                               returncode=EXIT_FAILED)
