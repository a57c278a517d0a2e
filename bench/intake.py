"""What a submission costs on each side of the intake queue, in process: `python -m bench.intake --json`.

Runs the Django app on a fresh SQLite database in a temporary folder (test settings),
with a vetted creator and an enrolled, consenting subject, and measures CPU seconds
(process time, database included) for: the request path (`accept_job`: read the uploads,
decode the voice track, the rules that need no face, store, record), the intake
(`check_job`: face detection, landmarks, embedding, the whole gate), and one gate decision
as the protected-person list grows (each decision compares the photo's face with every
protected face: `consent.identity.nearest_protected`). Then it takes one job through the
generation worker's path too and times every transaction that holds the audit log's lock
(from the lock to the commit, wall and CPU, with the events it recorded): that lock orders
every audit writer, so the lock-seconds a job costs bound the submissions a minute that one
database can take. Inputs for the capacity model in docs/benchmarks.md."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.media import ROOT, api_inputs


def _setup():
    os.environ["VERITALK_VAR_DIR"] = tempfile.mkdtemp(prefix="veritalk-bench-intake-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "veritalk.test_settings"
    sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
    import django  # noqa: PLC0415 - needs django.setup() first
    django.setup()
    from django.core.management import call_command  # noqa: PLC0415 - needs django.setup() first
    call_command("migrate", verbosity=0)


class LockTimer:
    """Times each transaction that takes the audit log's lock (audit.chain.lock, called first
    in every recording transaction) until its commit, with the audit actions it recorded."""

    def __init__(self):
        self.holds: list[dict] = []
        self._open: dict | None = None

    def install(self):
        from django.db import transaction  # noqa: PLC0415 - needs django.setup() first
        from django.db.models.signals import post_save  # noqa: PLC0415 - needs django.setup() first

        import audit.chain as chain  # noqa: PLC0415 - needs django.setup() first
        from audit.models import PendingAuditEvent  # noqa: PLC0415 - needs django.setup() first
        original = chain.lock

        def timed_lock():
            original()
            conn = transaction.get_connection()
            key = id(conn.atomic_blocks[0]) if conn.atomic_blocks else None
            if self._open is None or self._open["key"] != key:
                self._open = {"key": key, "wall": time.perf_counter(), "cpu": time.process_time(), "actions": []}
                transaction.on_commit(self._close)

        def recorded(sender, instance, created, **_):
            if created and self._open is not None:
                self._open["actions"].append(instance.action)

        chain.lock = timed_lock
        post_save.connect(recorded, sender=PendingAuditEvent, weak=False)

    def _close(self):
        o, self._open = self._open, None
        self.holds.append({"actions": o["actions"], "wall_ms": round((time.perf_counter() - o["wall"]) * 1000, 1),
                           "cpu_ms": round((time.process_time() - o["cpu"]) * 1000, 1)})


def _cpu(fn, n: int) -> dict:
    """Median and worst CPU milliseconds of n calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(n):
        t = time.process_time()
        fn()
        times.append((time.process_time() - t) * 1000)
    return {"n": n, "p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--protected", default="0,100,1000,10000", help="protected-list sizes to time a decision at")
    ap.add_argument("--seed", type=int, default=22, help="the random faces of the protected list")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if (inputs := api_inputs()) is None:
        return 2
    photo, audio = inputs
    _setup()
    timer = LockTimer()
    timer.install()
    import numpy as np  # noqa: PLC0415 - needs django.setup() first
    from django.conf import settings  # noqa: PLC0415 - needs django.setup() first
    from django.contrib.auth import get_user_model  # noqa: PLC0415 - needs django.setup() first
    from django.utils import timezone  # noqa: PLC0415 - needs django.setup() first

    from audit.models import AuditEvent  # noqa: PLC0415 - needs django.setup() first
    from consent.identity import embed_photo  # noqa: PLC0415 - needs django.setup() first
    from consent.models import ProtectedPerson, Subject  # noqa: PLC0415 - needs django.setup() first
    from consent.services import grant_consent  # noqa: PLC0415 - needs django.setup() first
    from jobs.gate import decide_job  # noqa: PLC0415 - needs django.setup() first
    from jobs.intake import accept_job, check_job  # noqa: PLC0415 - needs django.setup() first
    from jobs.models import Job  # noqa: PLC0415 - needs django.setup() first
    from jobs.runner import run_job  # noqa: PLC0415 - needs django.setup() first
    from provenance.signing import mint_platform_chain  # noqa: PLC0415 - needs django.setup() first

    creator = get_user_model().objects.create_user("ana", password="pw-bench-1", role="creator", vetted=True)
    emb = embed_photo(photo.read_bytes())
    subject = Subject.objects.create(display_name="Bea", created_by=creator, face_embedding=emb,
                                     enrolment_embeddings=[emb], enrolled_at=timezone.now())
    grant_consent(subject=subject, creator=creator, purposes=["test"])
    photo_bytes, audio_bytes = photo.read_bytes(), audio.read_bytes()
    made: list[str] = []

    def accept():
        job = accept_job(creator=creator, subject=subject, photo=photo_bytes, audio=audio_bytes,
                         controls={"size": 256}, purpose="test")
        assert job.status == Job.Status.CHECKING, job.decision
        made.append(str(job.pk))

    accepted = _cpu(accept, args.n)
    waiting = list(made)

    def check():
        job = check_job(waiting.pop())
        assert job.status == Job.Status.QUEUED, job.decision

    checked = _cpu(check, min(args.n, len(waiting) - 1))
    one = made[0]
    events = AuditEvent.objects.filter(target_id=one).count()
    # One job from the request to its release, every audit-locked transaction timed.
    mint_platform_chain(Path(settings.VERITALK_SIGNING_DIR))
    timer.holds.clear()
    accept()
    check_job(made[-1])
    done = run_job(made[-1])
    assert done.status == Job.Status.SUCCEEDED, done.error
    holds = list(timer.holds)
    job = Job.objects.get(pk=one)
    rng = np.random.default_rng(args.seed)
    decisions = {}
    have = 0
    for size in sorted(int(s) for s in args.protected.split(",")):
        # Random unit-scale faces, three photos each: far from the subject, so every one is compared.
        ProtectedPerson.objects.bulk_create([
            ProtectedPerson(name=f"P{i}", embeddings=(rng.normal(0, 0.1, (3, 128))).round(5).tolist())
            for i in range(have, size)], batch_size=500)
        have = size
        decisions[str(size)] = _cpu(lambda: decide_job(job), max(5, args.n // 2))
    result = {"seed": args.seed, "accept_job": accepted, "check_job": checked,
              "audit_events_to_queued": events, "decision_by_protected_list": decisions,
              "audit_lock_one_job": {"transactions": holds, "wall_ms": round(sum(h["wall_ms"] for h in holds), 1),
                                     "cpu_ms": round(sum(h["cpu_ms"] for h in holds), 1),
                                     "frames": done.progress_total},
              "photo_bytes": len(photo_bytes), "audio_bytes": len(audio_bytes)}
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
