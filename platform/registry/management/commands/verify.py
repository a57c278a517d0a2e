"""An auditor's check of any file: C2PA, watermark, registry."""
import json
from pathlib import Path

from django.core.management.base import CommandError

from audit.chain import record
from registry.services import verify_path
from veritalk.commands import DatabaseCommand


class Command(DatabaseCommand):
    help = "Verify a file's provenance: C2PA manifest, invisible watermark and registry record."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--similar", action="store_true",
                            help="when no provenance is found, also search the registry by perceptual "
                                 "fingerprint (a lead for laundered copies, not proof)")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        result = verify_path(path, similar=opts["similar"])
        record("verification.run", data={"file": path.name, "sha256": result["sha256"], "verdict": result["verdict"]})
        if opts["json"]:
            self.stdout.write(json.dumps(result))
            return
        c, w, r = result["c2pa"], result["watermark"], result["registry"]
        self.stdout.write(f"verdict:   {result['verdict']} - {result['summary']}")
        self.stdout.write(f"C2PA:      {c['state']}" + (f" (issuer {c['issuer']})" if c["issuer"] else ""))
        for e in c["errors"]:
            self.stdout.write(f"           error: {e}")
        self.stdout.write(f"watermark: {'payload ' + w['payload'] if w['found'] else 'not found'}"
                          f" (confidence {w['confidence']:.2f} over {w['frames']} frames)")
        self.stdout.write("registry:  " + (f"job {r['job']}, consent #{r['consent']}, revoked={r['revoked']}"
                                             if r["match"] else "no match"))
        for m in r.get("similar", []):
            self.stdout.write(f"similar:   job {m['job']} (fingerprint distance {m['distance']:.3f}): "
                              "looks like this output; a lead, not proof")
        if "similar" in r and not r["similar"]:
            self.stdout.write("similar:   no issued output looks like this file")
