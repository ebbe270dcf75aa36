#!/usr/bin/env python
"""One scheduler pass over N enabled tasks of which 1 % are due: wall time and DB query count.

    .venv/bin/python benchmarks/scheduler_pass.py                       # SQLite file, 10k and 100k
    .venv/bin/python benchmarks/scheduler_pass.py --db postgres://postgres@127.0.0.1:5432/taskctl_bench

The tasks are in the state a running scheduler leaves them in: every task has its next_run_at;
the due 1 % (half REPEATABLE hourly, half cron every minute) fall within the look-ahead, the rest
later. The broker carries the scheduler's marker (no recovery pass). The measured pass plans the
due tasks' jobs, advances their next_run_at, promotes, reaps and finds its next wake-up.
Targets: <= 50 ms at 10,000 tasks, <= 1 s at 100,000, and a query count that does not grow with N.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def configure(db_url: str, redis_url: str, prefix: str) -> None:
    import dj_database_url
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": dj_database_url.parse(db_url)},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "scheduler_core"],
        USE_TZ=True, TIME_ZONE="UTC", DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        SCHEDULER={"BROKER_URL": redis_url, "QUEUES": {"default": {}}, "KEY_PREFIX": prefix},
    )  # fmt: skip
    django.setup()


def ensure_postgres_db(db_url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(db_url)
    conn = psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres",
                           password=cfg.get("PASSWORD") or None, autocommit=True)  # fmt: skip
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (cfg["NAME"],)).fetchone():
        conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    conn.close()


def wipe() -> None:
    """Delete every task with one statement (no signals: they would re-plan 100,000 deletions)."""
    from django.db import connection

    from scheduler_core.models import Task

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(Task._meta.db_table)}")


def populate(total: int, due: int, now: datetime) -> None:
    from scheduler_core.models import Task

    wipe()
    minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    rows = []
    for i in range(total):
        if i < due and i % 2 == 0:  # due: hourly, anchored within the next 30 s
            at = now + timedelta(seconds=1 + i % 30)
            rows.append(Task(name=f"b{i:06d}", type="repeatable", callable="tests.jobs.noop", interval=3600,
                             at=at, next_run_at=at, spec_hash="x"))  # fmt: skip
        elif i < due:  # due: a cron every minute, its next minute within the look-ahead
            rows.append(Task(name=f"b{i:06d}", type="cron", callable="tests.jobs.noop", cron="* * * * *",
                             timezone="Europe/Berlin", next_run_at=minute, spec_hash="x"))  # fmt: skip
        else:  # later: planned in an hour or more
            at = now + timedelta(hours=1, seconds=i % 3000)
            rows.append(Task(name=f"b{i:06d}", type="repeatable", callable="tests.jobs.noop", interval=7200,
                             at=at, next_run_at=at, spec_hash="x"))  # fmt: skip
    Task.objects.bulk_create(rows, batch_size=2000)


def one(total: int, pct: float) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduler_core.conf import get_config
    from scheduler_core.scheduler import Scheduler
    from scheduler_core.scheduler.recovery import brokers, mark

    due = max(1, round(total * pct / 100))
    now = datetime.now(UTC)
    populate(total, due, now)
    config = get_config()
    for url in brokers(config):
        mark(config, url, now)  # steady state: the broker is known, no refill
    sched = Scheduler(config)
    sched.leader.ensure()
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        result = sched.run_once(now=now)
        wall = time.perf_counter() - t0
    sched.leader.release()
    return {"tasks": total, "due": due, "planned_jobs": result.planned, "seconds": round(wall, 4),
            "queries": len(ctx.captured_queries)}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default="", help="database URL (default: a temporary SQLite file)")
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    p.add_argument("--total", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--due-pct", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=3, help="passes per size (the best is reported)")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="taskctl-bench-")
    db = args.db or f"sqlite:///{tmp}/bench.sqlite3"
    if db.startswith("postgres"):
        ensure_postgres_db(db)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    configure(db, args.redis_url, prefix)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    r = redis.Redis.from_url(args.redis_url)
    try:
        for total in args.total:
            runs = []
            for _ in range(args.repeat):
                for key in r.scan_iter(match=f"{prefix}:*", count=1000):
                    r.delete(key)
                runs.append(one(total, args.due_pct))
            best = min(runs, key=lambda x: x["seconds"])
            best["median_seconds"] = sorted(x["seconds"] for x in runs)[len(runs) // 2]
            best["first_seconds"] = runs[0]["seconds"]  # cold caches (a fresh process)
            best["db"] = db.split(":", 1)[0]
            print(json.dumps(best))
    finally:
        for key in r.scan_iter(match=f"{prefix}:*", count=1000):
            r.delete(key)
        wipe()


if __name__ == "__main__":
    main()
