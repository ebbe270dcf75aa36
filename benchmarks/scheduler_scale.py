#!/usr/bin/env python
"""The scheduler at scale, on a simulated clock: TASKS repeatable tasks run through scheduler
passes until OCCURRENCES occurrences were planned; per-pass wall time, DB queries, the process's
peak memory and the broker's.

    .venv/bin/python benchmarks/scheduler_scale.py    # 100,000 tasks, 1,000,000 occurrences
    .venv/bin/python benchmarks/scheduler_scale.py --tasks 10000 --occurrences 100000
    .venv/bin/python benchmarks/scheduler_scale.py --db postgres://postgres@127.0.0.1:5432/taskctl_bench

Every task runs every INTERVAL seconds (default 600), their anchors spread evenly over one
interval, so a pass every PASS seconds of simulated time (default 10) finds TASKS * PASS /
INTERVAL of them due. The clock is injected (`Scheduler.run_once(now=...)`): simulated hours pass
in minutes. Between passes a stand-in consumer empties `queued` (one atomic clear), as workers
would, so the broker holds what a running system holds: the look-ahead's scheduled jobs. At the
end the jobs consumed plus those still scheduled equal the occurrences planned: one job per
occurrence, none lost.
The broker is a private redis-server this script starts on a free loopback port and stops.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from scheduler_pass import configure, ensure_postgres_db  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(tmp: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        sys.exit("redis-server not found on PATH")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            tmp,
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("the private redis-server did not start")


def populate(tasks: int, interval: int, start: datetime) -> None:
    from scheduler_core.models import Task

    rows = []
    for i in range(tasks):
        at = start + timedelta(seconds=interval * i / tasks)
        rows.append(Task(name=f"s{i:07d}", type="repeatable", callable="tests.jobs.noop", interval=interval,
                         at=at, next_run_at=at, spec_hash="x"))  # fmt: skip
    Task.objects.bulk_create(rows, batch_size=5000)


def simulate(args: argparse.Namespace, redis_url: str) -> dict[str, Any]:
    import redis
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduler_core.conf import get_config
    from scheduler_core.queues.queue import get_queue
    from scheduler_core.scheduler import Scheduler
    from scheduler_core.scheduler.recovery import brokers, mark

    start = datetime(2026, 1, 5, tzinfo=UTC)
    t0 = time.perf_counter()
    populate(args.tasks, args.interval, start)
    populate_s = time.perf_counter() - t0
    config = get_config()
    for url in brokers(config):
        mark(config, url, start)
    sched = Scheduler(config)
    q = get_queue("default")
    r = redis.Redis.from_url(redis_url)
    passes: list[float] = []
    queries: list[int] = []
    planned = consumed = 0
    peak_broker = 0
    now = start
    while planned < args.occurrences:
        sched.leader.ensure()
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            result = sched.run_once(now=now)
            passes.append(time.perf_counter() - t)
        queries.append(len(ctx.captured_queries))
        planned += result.planned
        consumed += q.clear("queued")  # the workers' part, as one atomic move
        peak_broker = max(peak_broker, int(r.info("memory")["used_memory"]))
        now += timedelta(seconds=args.pass_seconds)
    sched.leader.release()
    left = q.count("scheduled") + q.count("queued")
    ordered = sorted(passes)
    return {
        "tasks": args.tasks,
        "occurrences_planned": planned,
        "jobs_consumed": consumed,
        "jobs_left_scheduled": left,
        "every_occurrence_once": consumed + left == planned,
        "simulated_hours": round((now - start).total_seconds() / 3600, 2),
        "passes": len(passes),
        "pass_ms_median": round(statistics.median(passes) * 1000, 1),
        "pass_ms_p99": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
        "pass_ms_max": round(ordered[-1] * 1000, 1),
        "queries_per_pass_max": max(queries),
        "wall_seconds": round(sum(passes), 1),
        "populate_seconds": round(populate_s, 1),
        "process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "broker_peak_used_mib": round(peak_broker / 2**20, 1),
        "db": str(connection.vendor),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default="", help="database URL (default: a temporary SQLite file)")
    p.add_argument("--tasks", type=int, default=100_000)
    p.add_argument("--occurrences", type=int, default=1_000_000)
    p.add_argument("--interval", type=int, default=600, help="each task's interval, seconds")
    p.add_argument("--pass-seconds", type=int, default=10, help="simulated seconds between passes")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="taskctl-scale-")
    db = args.db or f"sqlite:///{tmp}/scale.sqlite3"
    if db.startswith("postgres"):
        ensure_postgres_db(db)
    server, redis_url = start_redis(tmp)
    try:
        configure(db, redis_url, "scale")
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        if db.startswith("postgres"):
            from scheduler_pass import wipe

            wipe()
        print(json.dumps(simulate(args, redis_url)))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
