"""Mint an API token for an account: `manage.py mint_token USER [--json]`."""
import json

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from accounts.api import mint_token
from veritalk.commands import DatabaseCommand


class Command(DatabaseCommand):
    help = "Mint an API token for USER (replaces the previous one); send it as 'Authorization: Token <key>'."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        user = get_user_model().objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"no account '{opts['username']}'", returncode=2)
        token = mint_token(user, via="command")
        if opts["json"]:
            self.stdout.write(json.dumps({"username": user.username, "role": user.role, "token": token.key}))
        else:
            self.stdout.write(token.key)
