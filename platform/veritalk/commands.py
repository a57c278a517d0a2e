"""A base for management commands that read or write the database: an unmigrated
database gets a clear error naming the fix instead of a traceback from deep inside."""
from __future__ import annotations

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
