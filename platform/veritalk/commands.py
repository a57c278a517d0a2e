"""A base for management commands that read or write the database: an unmigrated
database gets a clear error naming the fix instead of a traceback from deep inside;
and the one way a check reports what it found."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import DatabaseError


class DatabaseCommand(BaseCommand):
    def execute(self, *args, **options):
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        try:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise CommandError(f"the database cannot be reached ({exc}); check DATABASE_URL", returncode=2) from exc
        if pending:
            raise CommandError(f"the database {connection.settings_dict['NAME']} is not migrated "
                               f"({len(pending)} migrations pending): run `python manage.py migrate` first",
                               returncode=2)
        return super().execute(*args, **options)

    def report(self, problems: list, *, as_json: bool, summary: dict, lines: list[str], ok: str, broken: str):
        """A check's outcome: the JSON object `summary` (with --json), or one line per
        problem on stderr and `ok` on stdout; exit 1 with `broken` when there are problems."""
        if as_json:
            self.stdout.write(json.dumps(summary))
        else:
            for line in lines:
                self.stderr.write(line)
            if not problems:
                self.stdout.write(ok)
        if problems:
            raise CommandError(broken, returncode=1)
