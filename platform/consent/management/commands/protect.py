"""Add a person to the protected list from one or more portraits (only their
face embeddings are kept), or list the protected persons."""
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from common.errors import UserError
from consent.models import ProtectedPerson
from consent.protected import protect_person
from veritalk.commands import DatabaseCommand


class Command(DatabaseCommand):
    help = "Add a face to the protected-person list (refused without an elevated, verified consent)."

    def add_arguments(self, parser):
        parser.add_argument("--name", help="the person's name")
        parser.add_argument("--photo", type=Path, action="append", default=[], help="a portrait (repeatable)")
        parser.add_argument("--note", default="", help="why the person is protected")
        parser.add_argument("--by", help="username of the admin making the change")
        parser.add_argument("--list", action="store_true", help="list the protected persons instead")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        if opts["list"]:
            rows = [{"id": p.pk, "name": p.name, "active": p.active, "photos": len(p.embeddings)}
                    for p in ProtectedPerson.objects.order_by("name")]
            self.stdout.write(json.dumps(rows) if opts["json"] else "\n".join(
                f"{r['id']}: {r['name']} ({'active' if r['active'] else 'removed'}, {r['photos']} photo(s))"
                for r in rows) or "no protected persons")
            return
        if not (opts["name"] and opts["photo"] and opts["by"]):
            raise CommandError("--name, --photo and --by are required (or --list)")
        admin = get_user_model().objects.filter(username=opts["by"]).first()
        if admin is None:
            raise CommandError(f"no user {opts['by']!r}")
        for p in opts["photo"]:
            if not p.is_file():
                raise CommandError(f"no such file: {p}")
        try:
            person = protect_person(name=opts["name"], photos=[p.read_bytes() for p in opts["photo"]], by=admin,
                                    note=opts["note"])
        except UserError as exc:
            raise CommandError(exc.message) from exc
        out = {"id": person.pk, "name": person.name, "photos": len(person.embeddings)}
        self.stdout.write(json.dumps(out) if opts["json"] else f"protected #{person.pk}: {person.name}")
