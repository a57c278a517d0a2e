"""Find missing or corrupt outputs: every issued registry entry's file must exist and
hash to the registered checksum; partial files and stray outputs are reported."""
import time
from pathlib import Path

from django.conf import settings

from common.files import sha256_file
from jobs.models import Job
from registry.models import RegistryEntry
from veritalk.commands import DatabaseCommand

PARTIAL_GRACE_SECONDS = 24 * 3600  # a partial file older than this belongs to no running job


class Command(DatabaseCommand):
    help = "Check stored outputs against the registry's checksums."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        problems, checked = [], 0
        for entry in RegistryEntry.objects.filter(state=RegistryEntry.State.ISSUED).select_related("job"):
            checked += 1
            job = entry.job
            path = Path(job.output.path) if job.output else None
            if path is None or not path.is_file():
                problems.append({"job": str(job.pk), "registry_id": entry.pk, "problem": "missing",
                                 "path": str(path) if path else None})
            elif sha256_file(path) != entry.output_sha256:
                problems.append({"job": str(job.pk), "registry_id": entry.pk, "problem": "corrupt",
                                 "path": str(path)})
        root = Path(settings.MEDIA_ROOT) / "jobs"
        succeeded = {str(pk) for pk in Job.objects.filter(status=Job.Status.SUCCEEDED).values_list("pk", flat=True)}
        now = time.time()
        for f in sorted(root.glob("*/*")) if root.exists() else []:
            if f.name.endswith(".partial.mp4") and now - f.stat().st_mtime > PARTIAL_GRACE_SECONDS:
                problems.append({"job": f.parent.name, "problem": "stale partial file", "path": str(f)})
            elif f.name == "output.mp4" and f.parent.name not in succeeded:
                problems.append({"job": f.parent.name, "problem": "output without a succeeded job", "path": str(f)})
        self.report(problems, as_json=opts["json"],
                    summary={"ok": not problems, "checked": checked, "problems": problems},
                    lines=[f"{p['problem']}: job {p['job']} ({p.get('path')})" for p in problems],
                    ok=f"storage ok: {checked} outputs match the registry",
                    broken=f"{len(problems)} storage problem(s)")
