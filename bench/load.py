"""Load on the production stack: `python -m bench.load --json`.

Starts the private stack of bench/stack.py (its own PostgreSQL and Redis, gunicorn,
two niced generation workers, beat), then drives it with Locust on loopback: a
minute of job submissions through the REST API (200 by default) while other users
poll job status; then waits for the queue to drain. Prints one JSON object:
submission and status latencies, 5xx counts, and how every job ended."""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust import HttpUser, constant_pacing, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from bench import stack as stack_mod  # noqa: E402
from bench.media import CORPUS  # noqa: E402

SUBMITTED: list[tuple[str, dict]] = []
STARTED = itertools.count()
PER_CREATOR = 40
CONFIG: dict = {}


class Creator(HttpUser):
    """Submits jobs at a steady pace (photo + voice track, multipart)."""
    wait_time = constant_pacing(3.0)

    @task
    def submit(self):
        # Count a submission when it starts, not when its 201 arrives: concurrent users
        # then spread evenly over the creators (each stays under the daily limit).
        n = next(STARTED)
        if n >= CONFIG["jobs"] or CONFIG.get("stop"):
            return
        seed = CONFIG["seeds"][n % len(CONFIG["seeds"])]
        with open(CONFIG["photo"], "rb") as p, open(CONFIG["audio"], "rb") as a:
            with self.client.post("/api/jobs/", headers=seed["auth"], name="POST /api/jobs/",
                                  data={"subject": seed["subject"], "size": CONFIG["size"], "purpose": "test"},
                                  files={"photo": ("photo.jpg", p), "audio": ("voice" + CONFIG["audio"].suffix, a)},
                                  catch_response=True) as r:
                if r.status_code == 201:
                    SUBMITTED.append((r.json()["id"], seed["auth"]))
                    r.success()
                else:
                    r.failure(f"status {r.status_code}")


class Watcher(HttpUser):
    """Polls the state of submitted jobs, as the portal's progress bar does."""
    wait_time = constant_pacing(0.5)

    @task
    def status(self):
        if SUBMITTED:
            job, auth = random.choice(SUBMITTED)
            self.client.get(f"/api/jobs/{job}/", headers=auth, name="GET /api/jobs/{id}/")


def _figures(entry) -> dict:
    return {"requests": entry.num_requests, "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5), "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99), "max_ms": round(entry.max_response_time, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=200, help="submissions within the run")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--watchers", type=int, default=10)
    p.add_argument("--workers", type=int, default=2, help="generation workers")
    p.add_argument("--web-workers", type=int, default=4)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--photo", type=Path, default=CORPUS / "photos" / "elizabeth_olsen.jpg")
    p.add_argument("--audio", type=Path, default=CORPUS / "audio" / "sr_english_en.wav")
    p.add_argument("--drain-timeout", type=float, default=900.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    reason = stack_mod.available()
    if reason:
        print(f"bench.load: {reason}", file=sys.stderr)
        return 2
    # 20% more submitting users than the pace needs, so slow answers do not thin the minute.
    creators = max(1, round(1.2 * args.jobs * 3.0 / args.seconds))
    with stack_mod.Stack(workers=args.workers, web_workers=args.web_workers, reap_seconds=5.0,
                         redispatch_seconds=600.0) as stack:
        # Several creators, as in real use (and each stays under the policy's daily limit).
        seeds = []
        for i in range(-(-args.jobs // PER_CREATOR)):
            seed = stack.seed(args.photo, username=f"load{i}")
            seeds.append({"subject": seed["subject"], "auth": {"Authorization": f"Token {seed['token']}"}})
        CONFIG.update(jobs=args.jobs, photo=args.photo, audio=args.audio, size=args.size, seeds=seeds)
        env = Environment(user_classes=[Creator, Watcher], host=stack.url(""))
        codes: dict[int, int] = {}

        def count(response=None, **_):
            code = getattr(response, "status_code", 0) or 0
            codes[code] = codes.get(code, 0) + 1

        env.events.request.add_listener(count)
        runner = env.create_local_runner()
        Creator.fixed_count, Watcher.fixed_count = creators, args.watchers
        runner.start(creators + args.watchers, spawn_rate=100)
        started = time.monotonic()
        gevent.sleep(args.seconds)
        CONFIG["stop"] = True          # no new submission; let those in flight get their answer
        gevent.sleep(15)
        runner.quit()
        at_end = dict(stack.sql("select status, count(*) from jobs_job group by status"))
        deadline = time.monotonic() + args.drain_timeout
        while time.monotonic() < deadline:
            open_jobs = stack.sql("select count(*) from jobs_job where status in ('queued', 'running')")[0][0]
            if open_jobs == 0:
                break
            time.sleep(2)
        drained = round(time.monotonic() - started, 1)
        final = dict(stack.sql("select status, count(*) from jobs_job group by status"))
        stats = env.stats
        server_errors = sum(n for code, n in codes.items() if code >= 500)
        logs = stack.keep_logs(Path(__file__).resolve().parents[1] / "var" / "bench" / "load-logs")
        result = {
            "submitted": len(SUBMITTED), "creators": len(CONFIG["seeds"]), "seconds": args.seconds,
            "generation_workers": args.workers,
            "submit": _figures(stats.get("POST /api/jobs/", "POST")),
            "status": _figures(stats.get("GET /api/jobs/{id}/", "GET")),
            "http_5xx": server_errors, "http_codes": {str(k): v for k, v in sorted(codes.items())},
            "jobs_at_end_of_run": at_end, "jobs_final": final, "drained_after_seconds": drained,
            # Every job the server accepted, whether or not its 201 reached the client before the run ended.
            "accepted": sum(final.values()),
            "not_final": sum(n for st, n in final.items() if st in ("queued", "running")),
            "failed": final.get("failed", 0),
            "logs": str(logs),
        }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
