"""How busy the audit log's locks are: `python -m bench.lock_sampler DATABASE_URL [INTERVAL]`.

Worker transactions that change existing rows take one PostgreSQL advisory lock (the
serialising lock, audit.chain.atomic) and hold it to their commit; linking the outbox into
the hash chain takes a second one briefly (audit.chain.link_pending). This samples pg_locks
every INTERVAL seconds (default 0.05) until SIGTERM, then prints one JSON object: for the
serialising lock the share of samples in which it was held and how many transactions waited
for it at most (`held_share`, `waiting_mean`, `waiting_max`), and the link lock's held share.
bench/load.py runs it beside the load, as its own process (a blocking database client does
not belong in Locust's gevent loop)."""
from __future__ import annotations

import json
import signal
import sys
import time

import psycopg

SERIALISING_KEY = 0x5645_5249_4C4F_47   # audit.chain.AUDIT_LOCK_KEY (bench does not import the platform)
LINK_KEY = 0x5645_5249_4C49_4E          # audit.chain.LINK_LOCK_KEY
# A bigint advisory key shows in pg_locks as classid (high 32 bits) and objid (low 32 bits).
_KEY = "(classid::bigint << 32 | objid::bigint) = {}"
QUERY = ("select count(*) filter (where granted and {s}), count(*) filter (where not granted and {s}), "
         "count(*) filter (where granted and {k}) from pg_locks where locktype = 'advisory' and objsubid = 1"
         ).format(s=_KEY.format(SERIALISING_KEY), k=_KEY.format(LINK_KEY))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    url, interval = argv[0].replace("postgres://", "postgresql://"), float(argv[1]) if len(argv) > 1 else 0.05
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    samples = held = link_held = waiting_max = waiting_sum = 0
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop:
            granted, waiting, linking = conn.execute(QUERY).fetchone()
            samples += 1
            held += bool(granted)
            link_held += bool(linking)
            waiting_max, waiting_sum = max(waiting_max, waiting), waiting_sum + waiting
            time.sleep(interval)
    print(json.dumps({"samples": samples, "seconds": round(time.monotonic() - started, 1),
                      "held_share": round(held / samples, 4) if samples else None,
                      "waiting_mean": round(waiting_sum / samples, 3) if samples else None,
                      "waiting_max": waiting_max,
                      "link_held_share": round(link_held / samples, 4) if samples else None}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
