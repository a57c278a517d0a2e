"""Load on the production stack: `python -m bench.load --json` (what `make bench-load` runs).

Three runs by default (`--runs`), each on a fresh private stack (bench/stack.py: its own
PostgreSQL and Redis, and the Procfile's gunicorn, intake worker, two generation workers
and beat as processes). Locust on loopback submits a minute of jobs through the REST API
(200 by default, photo + voice track, multipart) while other users poll job status as the
portal's progress bar does, and generation runs on the same machine; then the bench waits
for every job to end, and polls alone for a few seconds to price a status read.

Prints one JSON object: each run's figures and the worst of them against the targets of
issue 22 (accepted in the minute, latencies p50/p95/p99, 5xx, connection failures, time
to drain, jobs lost or doubled, load average, CPU seconds per submission and per frame)."""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from locust import HttpUser, constant_pacing, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from bench import stack as stack_mod  # noqa: E402
from bench.media import CORPUS  # noqa: E402

PER_CREATOR = 40          # each creator stays under the policy's 50 jobs a day
SUBMIT, STATUS = "POST /api/jobs/", "GET /api/jobs/{id}/"
FINAL = ("succeeded", "failed", "denied", "cancelled")
TARGETS = {"accepted_in_minute": 200, "status_p95_ms": 300, "submit_p95_ms": 1000}


class State:
    """What one run's users share (reset before each run)."""
    submitted: list = []          # (job id, auth header) of each accepted submission
    started = itertools.count()
    config: dict = {}
    stop = False
    rng = random.Random(0)


class Creator(HttpUser):
    """Submits jobs at a steady pace (photo + voice track, multipart)."""
    wait_time = constant_pacing(3.0)

    @task
    def submit(self):
        # Count a submission when it starts, not when its answer arrives: concurrent users
        # then spread evenly over the creators (each stays under the daily limit).
        n = next(State.started)
        cfg = State.config
        if n >= cfg["jobs"] or State.stop:
            return
        seed = cfg["seeds"][n % len(cfg["seeds"])]
        with open(cfg["photo"], "rb") as p, open(cfg["audio"], "rb") as a:
            with self.client.post("/api/jobs/", headers=seed["auth"], name=SUBMIT,
                                  data={"subject": seed["subject"], "size": cfg["size"], "purpose": "test"},
                                  files={"photo": ("photo.jpg", p), "audio": ("voice" + cfg["audio"].suffix, a)},
                                  catch_response=True) as r:
                if r.status_code in (201, 202):
                    State.submitted.append((r.json()["id"], seed["auth"]))
                    r.success()
                else:
                    r.failure(f"status {r.status_code}")


class Watcher(HttpUser):
    """Polls the state of submitted jobs, as the portal's progress bar does."""
    wait_time = constant_pacing(0.5)

    @task
    def status(self):
        if State.submitted:
            job, auth = State.rng.choice(State.submitted)
            self.client.get(f"/api/jobs/{job}/", headers=auth, name=STATUS)


def _percentiles(ms: list[float]) -> dict:
    if not ms:
        return {"requests": 0}
    a = np.asarray(ms)
    return {"requests": len(ms), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "p99_ms": round(float(np.percentile(a, 99)), 1),
            "max_ms": round(float(a.max()), 1)}


def server_timing(header: str, client_ms: float) -> dict:
    """The parts of a `Server-Timing` header (app, cpu, db, slot, lock; milliseconds),
    plus the client's time outside Django."""
    parts = {}
    for item in header.split(","):
        name, _, rest = item.strip().partition(";")
        for attr in rest.split(";"):
            key, _, value = attr.partition("=")
            if key.strip() == "dur":
                parts[name] = float(value)
    if "app" in parts:
        parts["outside_view"] = max(0.0, client_ms - parts["app"])
    return parts


def where_time_went(rows: list[dict]) -> dict:
    """p50 and p95 of each part over the requests that carried the header."""
    rows = [r for r in rows if "app" in r]
    out = {"requests": len(rows)}
    for key in ("app", "cpu", "db", "slot", "lock", "outside_view"):
        a = np.asarray([r.get(key, 0.0) for r in rows])
        if len(a):
            out[key] = {"p50_ms": round(float(np.percentile(a, 50)), 1),
                        "p95_ms": round(float(np.percentile(a, 95)), 1)}
    return out


def _exactly_once(stack, accepted: set[str]) -> dict:
    """How every job ended: lost (accepted, not final or missing), doubled (more than one
    end, submission decision, creation or release), and rows the client never heard of."""
    rows = dict(stack.sql("select id::text, status from jobs_job"))
    ends = dict(stack.sql("select target_id, count(*) from audit_auditevent where action in "
                          "('job.succeeded', 'job.denied', 'job.failed', 'job.cancelled') group by target_id"))
    decided = dict(stack.sql("select target_id, count(*) from audit_auditevent where action = 'policy.decision' "
                             "and data->>'stage' = 'submission' group by target_id"))
    created = dict(stack.sql("select target_id, count(*) from audit_auditevent where action = 'job.created' "
                             "group by target_id"))
    issued = dict(stack.sql("select data->>'job', count(*) from audit_auditevent where action = 'registry.issued' "
                            "group by data->>'job'"))
    lost = sorted(j for j in accepted if rows.get(j) not in FINAL or ends.get(j, 0) == 0)
    doubled = sorted(j for j in rows if ends.get(j, 0) > 1 or decided.get(j, 0) > 1 or created.get(j, 0) > 1
                     or issued.get(j, 0) > 1)
    return {"lost": len(lost), "doubled": len(doubled), "lost_ids": lost[:10], "doubled_ids": doubled[:10],
            "unanswered": len(set(rows) - accepted)}


def _decision_seconds(stack) -> dict:
    """Seconds from a job's creation to the intake's decision (how long it shows `checking`)."""
    rows = stack.sql("select extract(epoch from (e.created_at - j.created_at)) from jobs_job j join "
                     "audit_auditevent e on e.target_id = j.id::text and e.action = 'policy.decision' "
                     "and e.data->>'stage' = 'submission'")
    s = np.asarray([float(r[0]) for r in rows])
    if not len(s):
        return {}
    return {"p50_s": round(float(np.percentile(s, 50)), 2), "p95_s": round(float(np.percentile(s, 95)), 2),
            "max_s": round(float(s.max()), 2)}


def _busy_cpu() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)


def one_run(args, index: int) -> dict:
    State.submitted, State.started, State.stop = [], itertools.count(), False
    State.rng = random.Random(args.seed + index)
    creators = max(1, round(1.2 * args.jobs * 3.0 / args.seconds))  # 20% more users than the pace needs
    with stack_mod.Stack(workers=args.workers, intake_workers=args.intake_workers, web_workers=args.web_workers,
                         web_threads=args.web_threads, reap_seconds=5.0, redispatch_seconds=600.0) as stack:
        seeds = []
        for i in range(-(-args.jobs // PER_CREATOR)):
            seed = stack.seed(args.photo, username=f"load{i}")
            seeds.append({"subject": seed["subject"], "auth": {"Authorization": f"Token {seed['token']}"}})
        State.config = {"jobs": args.jobs, "photo": args.photo, "audio": args.audio, "size": args.size,
                        "seeds": seeds}
        env = Environment(user_classes=[Creator, Watcher], host=stack.url(""))
        calls: dict[str, list] = {SUBMIT: [], STATUS: []}
        server: dict[str, list] = {SUBMIT: [], STATUS: []}
        codes: dict[int, int] = {}

        def on_request(name=None, response_time=0.0, response=None, exception=None, start_time=None, **_):
            code = getattr(response, "status_code", 0) or 0
            codes[code] = codes.get(code, 0) + 1
            calls.setdefault(name, []).append((start_time or time.time(), float(response_time), code))
            if response is not None and code:
                server.setdefault(name, []).append(server_timing(response.headers.get("Server-Timing", ""),
                                                                 float(response_time)))

        env.events.request.add_listener(on_request)
        runner = env.create_local_runner()
        Creator.fixed_count, Watcher.fixed_count = creators, args.watchers
        me = psutil.Process()
        cpu0, busy0, client0 = stack.cpu_seconds(), _busy_cpu(), sum(me.cpu_times()[:2])
        load_start = os.getloadavg()[0]
        loads: list[float] = []
        sampler = subprocess.Popen([sys.executable, "-m", "bench.lock_sampler", stack.pg.url, "0.05"],
                                   cwd=stack_mod.ROOT, stdout=subprocess.PIPE, text=True)
        started = time.time()
        runner.start(creators + args.watchers, spawn_rate=100)
        while time.time() - started < args.seconds:
            gevent.sleep(2.0)
            loads.append(os.getloadavg()[0])
        State.stop = True              # no new submission; let those in flight get their answer
        gevent.sleep(15)
        runner.quit()
        at_end = dict(stack.sql("select status, count(*) from jobs_job group by status"))
        deadline = time.monotonic() + args.drain_timeout
        while time.monotonic() < deadline:
            if stack.sql("select count(*) from jobs_job where status in ('checking', 'queued', 'running')")[0][0] == 0:
                break
            time.sleep(2)
            loads.append(os.getloadavg()[0])
        drained = round(time.time() - started, 1)
        cpu1, busy1, client1 = stack.cpu_seconds(), _busy_cpu(), sum(me.cpu_times()[:2])
        sampler.send_signal(signal.SIGTERM)
        audit_lock = json.loads(sampler.communicate(timeout=30)[0] or "{}")
        status_run = list(calls[STATUS])
        split = {SUBMIT: where_time_went(server[SUBMIT]), STATUS: where_time_went(server[STATUS])}

        # A status read's price: the watchers alone for a few seconds on the idle stack.
        before = stack.cpu_seconds().get("web", 0.0)
        calls[STATUS] = []
        env2 = Environment(user_classes=[Watcher], host=stack.url(""))
        env2.events.request.add_listener(on_request)
        runner2 = env2.create_local_runner()
        Watcher.fixed_count = args.watchers
        runner2.start(args.watchers, spawn_rate=100)
        gevent.sleep(args.calibrate_seconds)
        runner2.quit()
        calibration_polls = len(calls.get(STATUS, [])) or 1
        web_per_poll = (stack.cpu_seconds().get("web", 0.0) - before) / calibration_polls

        accepted = {j for j, _ in State.submitted}
        ends = _exactly_once(stack, accepted)
        decided = _decision_seconds(stack)
        final = dict(stack.sql("select status, count(*) from jobs_job group by status"))
        frames = stack.sql("select coalesce(sum(progress_total), 0) from jobs_job where status = 'succeeded'")[0][0]
        events = stack.sql("select count(*) from audit_auditevent where target_type = 'job'")[0][0]
        logs = stack.keep_logs(Path(__file__).resolve().parents[1] / "var" / "bench" / f"load-logs-{index + 1}")

    submits = calls[SUBMIT]
    in_minute = sum(1 for t0, ms, code in submits if code in (201, 202) and t0 - started + ms / 1000 <= args.seconds)
    spent = {role: round(cpu1.get(role, 0.0) - cpu0.get(role, 0.0), 2) for role in cpu1}
    n = max(1, len(accepted))
    web_submit = max(0.0, spent.get("web", 0.0) - len(status_run) * web_per_poll)
    stack_total = sum(spent.values())
    return {
        "run": index + 1,
        "accepted_in_minute": in_minute, "accepted": len(accepted), "creators": len(seeds),
        "submit": _percentiles([ms for _, ms, _ in submits]),
        "status": _percentiles([ms for _, ms, _ in status_run]),
        # Where a request's time went (the server's Server-Timing header): the request in Django,
        # its CPU, database statements, upload-slot and audit-lock waits; `outside_view` is the
        # rest (socket, gunicorn's queue).
        "submit_server": split[SUBMIT], "status_server": split[STATUS],
        "http_5xx": sum(v for k, v in codes.items() if k >= 500), "connection_failures": codes.get(0, 0),
        "http_codes": {str(k): v for k, v in sorted(codes.items())},
        "checking_to_decided": decided,
        "jobs_at_end_of_minute": at_end, "jobs_final": final, "drained_after_seconds": drained,
        "lost": ends["lost"], "doubled": ends["doubled"], "unanswered_jobs": ends["unanswered"],
        "lost_ids": ends["lost_ids"], "doubled_ids": ends["doubled_ids"],
        "load_average": {"at_start": round(load_start, 2), "max": round(max(loads or [0]), 2),
                         "mean": round(float(np.mean(loads)) if loads else 0.0, 2)},
        "cpu_seconds": spent,
        "cpu_seconds_per_submission": {
            "web": round(web_submit / n, 4), "intake": round(spent.get("intake", 0.0) / n, 4),
            "generation": round(spent.get("generation", 0.0) / n, 3),
            "postgres": round(spent.get("postgres", 0.0) / n, 4), "redis": round(spent.get("redis", 0.0) / n, 4)},
        "cpu_seconds_per_status_read": round(web_per_poll, 5),
        "cpu_seconds_per_frame": round(spent.get("generation", 0.0) / frames, 5) if frames else None,
        "frames_rendered": int(frames),
        "audit_events_per_job": round(events / n, 2),
        # The audit chain's lock, held by every transaction that records an event: its busy share
        # over the run and the lock-seconds each submission costs (the bound: 60 / that per minute).
        "audit_lock": {**audit_lock, "seconds_per_submission": round(
            (audit_lock.get("held_share") or 0) * (audit_lock.get("seconds") or 0) / n, 4)},
        "machine_cpu_seconds": {"busy": round(busy1 - busy0, 1), "stack": round(stack_total, 1),
                                "client": round(client1 - client0, 1),
                                "others": round(busy1 - busy0 - stack_total - (client1 - client0), 1)},
        "logs": str(logs),
    }


def passes(run: dict) -> dict:
    """Each target of issue 22 for one run."""
    return {"accepted_in_minute": run["accepted_in_minute"] >= TARGETS["accepted_in_minute"],
            "no_connection_failures": run["connection_failures"] == 0, "no_5xx": run["http_5xx"] == 0,
            "status_p95": run["status"].get("p95_ms", 1e9) < TARGETS["status_p95_ms"],
            "submit_p95": run["submit"].get("p95_ms", 1e9) < TARGETS["submit_p95_ms"],
            "every_job_ends_once": run["lost"] == 0 and run["doubled"] == 0}


def worst(runs: list[dict]) -> dict:
    """The worst run's value of each figure."""
    return {
        "accepted_in_minute": min(r["accepted_in_minute"] for r in runs),
        "status_p95_ms": max(r["status"].get("p95_ms", 0) for r in runs),
        "status_p99_ms": max(r["status"].get("p99_ms", 0) for r in runs),
        "submit_p95_ms": max(r["submit"].get("p95_ms", 0) for r in runs),
        "submit_p99_ms": max(r["submit"].get("p99_ms", 0) for r in runs),
        "http_5xx": max(r["http_5xx"] for r in runs),
        "connection_failures": max(r["connection_failures"] for r in runs),
        "drained_after_seconds": max(r["drained_after_seconds"] for r in runs),
        "lost": max(r["lost"] for r in runs), "doubled": max(r["doubled"] for r in runs),
        "load_average_max": max(r["load_average"]["max"] for r in runs),
        "checking_to_decided_p95_s": max(r["checking_to_decided"].get("p95_s", 0) for r in runs),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="consecutive runs, each on a fresh stack")
    p.add_argument("--jobs", type=int, default=200, help="submissions within each run")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--watchers", type=int, default=10, help="users polling job status every 0.5 s")
    p.add_argument("--workers", type=int, default=2, help="generation workers")
    p.add_argument("--intake-workers", type=int, default=1)
    p.add_argument("--web-workers", type=int, default=None, help="gunicorn processes (default: the Procfile's)")
    p.add_argument("--web-threads", type=int, default=None, help="threads per process (default: the Procfile's)")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--photo", type=Path, default=CORPUS / "photos" / "elizabeth_olsen.jpg")
    p.add_argument("--audio", type=Path, default=CORPUS / "audio" / "sr_english_en.wav")
    p.add_argument("--drain-timeout", type=float, default=900.0)
    p.add_argument("--calibrate-seconds", type=float, default=10.0, help="status polls alone, to price a read")
    p.add_argument("--seed", type=int, default=22, help="the watchers' choice of jobs to poll")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    reason = stack_mod.available()
    if reason:
        print(f"bench.load: {reason}", file=sys.stderr)
        return 2
    for f in (args.photo, args.audio):
        if not f.is_file():
            print(f"bench.load: {f} not found (the shared corpus is absent)", file=sys.stderr)
            return 2
    runs = []
    for i in range(args.runs):
        runs.append(one_run(args, i))
        print(f"bench.load: run {i + 1}: {json.dumps(runs[-1])}", file=sys.stderr, flush=True)
    checks = [passes(r) for r in runs]
    result = {"seed": args.seed, "runs": runs, "worst": worst(runs), "targets": TARGETS,
              "passes": {k: all(c[k] for c in checks) for k in checks[0]},
              "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)}}
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
