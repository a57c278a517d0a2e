"""What `make demo` runs: seed a vetted creator and a consenting subject, generate
through the gate and Celery, verify the result (DESIGN.md's `demo`)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from consent.models import Subject
from consent.services import enrol_subject, grant_consent
from generation.errors import InputError
from jobs.management.control_flags import add_control_arguments, controls_from_options
from registry.models import RegistryEntry
from registry.services import verify_path
from veritalk.commands import DatabaseCommand

from .generate import run_generation

CORPUS = settings.ROOT_DIR.parent / "shared" / "corpus"
DEFAULT_PHOTO = CORPUS / "photos" / "elizabeth_olsen.jpg"
DEFAULT_AUDIO = CORPUS / "audio" / "vctk_p240_en.mp3"
DEMO_CREATOR = "demo-creator"


@transaction.atomic
def seed(photo: Path):
    User = get_user_model()
    creator, created = User.objects.get_or_create(username=DEMO_CREATOR, defaults={"role": Role.CREATOR})
    if created:
        creator.set_unusable_password()
    if not creator.vetted:
        creator.vetted, creator.vetted_at, creator.vetting_note = True, timezone.now(), "seeded by `manage.py demo`"
    creator.save()
    data = photo.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    subject = Subject.objects.filter(created_by=creator, enrolment_sha256=digest).first()
    if subject is None:
        name = f"Demo subject ({photo.stem})"
        Subject.objects.filter(created_by=creator, display_name=name).update(display_name=f"{name} [{digest[:8]}]")
        subject = enrol_subject(creator=creator, display_name=name, photo_bytes=data)
    consent = subject.active_consent(creator)
    if consent is None or not consent.is_active():
        grant_consent(subject=subject, creator=creator, purposes=["demo"],
                      statement="I agree to Veritalk demo videos of my face (seeded by `manage.py demo`).")
    return creator, subject


class Command(DatabaseCommand):
    help = "Seed a demo creator and consenting subject, generate one video through the gate, verify it."

    def add_arguments(self, parser):
        parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO)
        parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
        parser.add_argument("--out", type=Path, default=settings.VAR_DIR / "demo" / "demo.mp4")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        add_control_arguments(parser)

    def handle(self, *args, **opts):
        photo, audio = opts["photo"], opts["audio"]
        for p, what in ((photo, "photo"), (audio, "audio")):
            if not p.is_file():
                raise CommandError(f"{what} {p} not found; pass --{what} (the default comes from ../shared/corpus)")
        call_command("init_signing", if_missing=True, stdout=open("/dev/null", "w"))
        try:
            creator, subject = seed(photo)
            result = run_generation(creator=creator, subject=subject, photo=photo, audio=audio, out=opts["out"],
                                    controls=controls_from_options(opts), purpose="demo", worker=opts["worker"],
                                    timeout=opts["timeout"])
        except InputError as exc:
            raise CommandError(f"{exc.field or 'input'}: {exc.message}") from exc
        if result["status"] != "succeeded":
            raise CommandError(f"demo job {result['job']} ended {result['status']}: "
                               f"{result['decision']['reasons'] or result['error']}")
        verification = verify_path(result["output"])
        out = {"creator": creator.username, "subject": {"id": subject.pk, "name": subject.display_name},
               "job": result["job"], "output": result["output"], "verification": verification,
               "seconds": result["seconds"]}
        if opts["json"]:
            self.stdout.write(json.dumps(out))
            return
        c, w, r = verification["c2pa"], verification["watermark"], verification["registry"]
        self.stdout.write(f"output:       {result['output']}")
        self.stdout.write(f"verdict:      {verification['verdict']} - {verification['summary']}")
        self.stdout.write(f"C2PA:         {c['state']} (issuer {c['issuer']}; actions {', '.join(c['actions'])})")
        entry = RegistryEntry.objects.get(job_id=result["job"])
        same = "matches" if w["payload"] == entry.watermark_payload else "DOES NOT match"
        self.stdout.write(f"watermark:    payload {w['payload']} (confidence {w['confidence']:.2f}; "
                          f"{same} registry entry #{entry.pk}: {entry.watermark_payload})")
        self.stdout.write(f"registry:     job {r['job']}, consent #{r['consent']}, revoked: {r['revoked']}")
        self.stdout.write(f"generated in {result['seconds']:.1f} s")
