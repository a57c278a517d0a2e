"""API and portal response times, in process: `python -m bench.api --json`.

Runs the Django app on a fresh SQLite database in a temporary folder (test settings),
with a creator who has 60 jobs, and times the requests the portal makes most: the job
list (a page of 25), one job's state (what the progress bar polls), the face preview
of a portrait, the verification of a generated video, the dashboard page and the
schema. Prints the median and 90th percentile in milliseconds per request."""
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
    os.environ["VERITALK_VAR_DIR"] = tempfile.mkdtemp(prefix="veritalk-bench-api-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "veritalk.test_settings"
    sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
    import django  # noqa: PLC0415 - after django.setup()
    django.setup()
    from django.conf import settings  # noqa: PLC0415 - after django.setup()
    from django.core.management import call_command  # noqa: PLC0415 - after django.setup()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "1000000/minute", "anon": "1000000/minute"}}
    call_command("migrate", verbosity=0)
    from provenance.signing import mint_platform_chain  # noqa: PLC0415 - after django.setup()
    mint_platform_chain(Path(settings.VERITALK_SIGNING_DIR))


def _timed(fn, n: int) -> dict:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = fn()
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code < 300, (r.status_code, getattr(r, "content", b"")[:300])
    times.sort()
    return {"n": n, "p50_ms": round(statistics.median(times), 1), "p90_ms": round(times[int(0.9 * (n - 1))], 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--n", type=int, default=30)
    args = ap.parse_args(argv)
    if (inputs := api_inputs()) is None:
        return 2
    photo, audio = inputs
    _setup()
    from django.contrib.auth import get_user_model  # noqa: PLC0415 - after django.setup()
    from django.test import Client  # noqa: PLC0415 - after django.setup()
    from django.utils import timezone  # noqa: PLC0415 - after django.setup()
    from rest_framework.authtoken.models import Token  # noqa: PLC0415 - after django.setup()

    from consent.identity import embed_photo  # noqa: PLC0415 - after django.setup()
    from consent.models import Subject  # noqa: PLC0415 - after django.setup()
    from consent.services import grant_consent  # noqa: PLC0415 - after django.setup()
    from jobs.models import Job  # noqa: PLC0415 - after django.setup()
    from jobs.runner import run_job  # noqa: PLC0415 - after django.setup()
    from jobs.services import submit_job  # noqa: PLC0415 - after django.setup()

    creator = get_user_model().objects.create_user("ana", password="pw-bench-1", role="creator", vetted=True)
    emb = embed_photo(photo.read_bytes())
    subject = Subject.objects.create(display_name="Bea", created_by=creator, face_embedding=emb,
                                     enrolment_embeddings=[emb], enrolled_at=timezone.now())
    grant_consent(subject=subject, creator=creator, purposes=["test"])
    with open(photo, "rb") as p, open(audio, "rb") as a:
        job = submit_job(creator=creator, subject=subject, photo=p, audio=a, controls={"size": 256}, purpose="test")
    run_job(str(job.pk))
    job.refresh_from_db()
    for _ in range(59):  # more jobs, so that the list has pages to cut
        Job.objects.create(creator=creator, subject=subject, purpose="test", status=Job.Status.DENIED,
                           photo_sha256="0" * 64, audio_sha256="0" * 64)
    token = Token.objects.create(user=creator).key
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    portal = Client()
    portal.force_login(creator)
    output = Path(job.output.path)

    def post_file(url, field, path):
        with open(path, "rb") as fh:
            return api.post(url, {field: fh})

    n = args.n
    result = {
        "jobs_list_page": _timed(lambda: api.get("/api/jobs/"), n),
        "job_state": _timed(lambda: api.get(f"/api/jobs/{job.pk}/"), n),
        "face_preview": _timed(lambda: post_file("/api/faces/", "photo", photo), max(5, n // 3)),
        "verify_output": _timed(lambda: post_file("/api/verify/", "file", output), max(5, n // 3)),
        "dashboard_page": _timed(lambda: portal.get("/"), n),
        "schema": _timed(lambda: api.get("/api/schema/"), max(5, n // 3)),
        "video_seconds": job.audio_seconds, "video_size": 256, "jobs": Job.objects.count(),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
