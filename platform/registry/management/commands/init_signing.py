"""Mint the platform CA and signing certificate (outside the repository, 0600)."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from provenance.signing import SigningError, mint_platform_chain


class Command(BaseCommand):
    help = "Create the platform's C2PA signing CA and certificate in VERITALK_SIGNING_DIR."

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="folder for the keys (default: VERITALK_SIGNING_DIR)")
        parser.add_argument("--organization", default="Veritalk")
        parser.add_argument("--force", action="store_true", help="replace existing signing material")
        parser.add_argument("--if-missing", action="store_true", help="do nothing when material exists")

    def handle(self, *args, **opts):
        directory = Path(opts["dir"] or settings.VERITALK_SIGNING_DIR).expanduser()
        if opts["if_missing"] and (directory / "signer.key").exists():
            self.stdout.write(f"signing material already in {directory}")
            return
        try:
            d = mint_platform_chain(directory, organization=opts["organization"], overwrite=opts["force"])
        except SigningError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"platform CA and signing certificate written to {d} (keys 0600); "
                          f"trust anchor: {d / 'ca.pem'}")
