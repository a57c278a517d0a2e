"""Check the audit log's hash chain; exit 0 when intact."""
import json

from django.core.management.base import CommandError

from audit.chain import verify_chain
from audit.models import AuditEvent
from veritalk.commands import DatabaseCommand


class Command(DatabaseCommand):
    help = "Verify the audit log's hash chain (finds edited, deleted and reordered rows)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        problems = verify_chain()
        rows = AuditEvent.objects.count()
        if opts["json"]:
            self.stdout.write(json.dumps({"intact": not problems, "rows": rows,
                                          "problems": [{"seq": p.seq, "problem": p.problem} for p in problems]}))
        else:
            for p in problems:
                self.stderr.write(f"row {p.seq}: {p.problem}")
            if not problems:
                self.stdout.write(f"audit log intact: {rows} rows")
        if problems:
            raise CommandError(f"audit log broken: {len(problems)} problem(s)", returncode=1)
