"""Check the audit log's hash chain; exit 0 when intact."""
from audit.chain import link_pending, verify_chain
from audit.models import AuditEvent, PendingAuditEvent
from veritalk.commands import DatabaseCommand


class Command(DatabaseCommand):
    help = "Verify the audit log's hash chain (finds edited, deleted and reordered rows)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        link_pending()  # what a process that died after its commit left in the outbox
        problems = verify_chain()
        rows = AuditEvent.objects.count()
        pending = PendingAuditEvent.objects.count()  # being linked by another process right now
        self.report(problems, as_json=opts["json"],
                    summary={"intact": not problems, "rows": rows, "pending": pending,
                             "problems": [{"seq": p.seq, "problem": p.problem} for p in problems]},
                    lines=[f"row {p.seq}: {p.problem}" for p in problems], ok=f"audit log intact: {rows} rows",
                    broken=f"audit log broken: {len(problems)} problem(s)")
