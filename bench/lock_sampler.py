"""How busy the audit log's lock is: `python -m bench.lock_sampler DATABASE_URL [INTERVAL]`.

Every audit event is appended under one PostgreSQL advisory lock held to the end of its
transaction (audit.chain.atomic), so that lock serialises every transaction that records
an event: submissions, intake decisions, job starts and releases. This samples pg_locks
every INTERVAL seconds (default 0.05) until SIGTERM, then prints one JSON object: the
share of samples in which the lock was held, and how many transactions waited for it at
most. bench/load.py runs it beside the load, as its own process (a blocking database
client does not belong in Locust's gevent loop)."""
from __future__ import annotations

import json
import signal
import sys
import time

import psycopg

QUERY = ("select count(*) filter (where granted), count(*) filter (where not granted) "
         "from pg_locks where locktype = 'advisory'")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    url, interval = argv[0].replace("postgres://", "postgresql://"), float(argv[1]) if len(argv) > 1 else 0.05
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    samples = held = waiting_max = waiting_sum = 0
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop:
            granted, waiting = conn.execute(QUERY).fetchone()
            samples += 1
            held += bool(granted)
            waiting_max, waiting_sum = max(waiting_max, waiting), waiting_sum + waiting
            time.sleep(interval)
    print(json.dumps({"samples": samples, "seconds": round(time.monotonic() - started, 1),
                      "held_share": round(held / samples, 4) if samples else None,
                      "waiting_mean": round(waiting_sum / samples, 3) if samples else None,
                      "waiting_max": waiting_max}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
