#!/usr/bin/env python
"""What taskctl costs a Redis node: memory per job, connections and commands per idle worker.

    .venv/bin/python benchmarks/broker_cost.py [--jobs 20000] [--idle-seconds 10]

On a private redis-server (a free loopback port, stopped at the end), with the built-in settings:
- memory per job: used_memory after enqueueing JOBS no-op jobs (queued), and after a burst worker
  ran them (finished, results kept for the default TTL), over the empty broker;
- an idle `taskctl worker start` with --concurrency 1 and 8, with and without its scheduler:
  the connections it holds (CLIENT LIST) and the commands it sends per second (INFO
  commandstats over IDLE seconds, after it settled).
From these, docs/scaling.md works out what 100 workers x 8 cost a node.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from scheduler_scale import start_redis  # noqa: E402


def taskctl(env: dict[str, str], *args: str, **kw: Any) -> subprocess.Popen[bytes]:
    # The jobs print: their output is not what is measured.
    return subprocess.Popen(
        [sys.executable, "-m", "taskctl", *args], env=env, cwd=REPO, stdout=subprocess.DEVNULL, **kw
    )


def commands_total(r: Any) -> int:
    return sum(int(v["calls"]) for k, v in r.info("commandstats").items() if k.startswith("cmdstat_"))


def idle_worker(
    env: dict[str, str], r: Any, concurrency: int, scheduler: bool, seconds: float
) -> dict[str, Any]:
    before = len(r.client_list())
    flag = "--with-scheduler" if scheduler else "--without-scheduler"
    proc = taskctl(env, "worker", "start", "-c", str(concurrency), flag, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3.0)  # start-up: forks, first heartbeats, the scheduler's first passes
        r.config_resetstat()
        start = commands_total(r)
        time.sleep(seconds)
        calls = commands_total(r) - start - 1  # minus our own INFO
        connections = len(r.client_list()) - before
    finally:
        proc.terminate()
        proc.wait(30)
    return {
        "concurrency": concurrency,
        "scheduler": scheduler,
        "connections": connections,
        "commands_per_second": round(calls / seconds, 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=20_000)
    p.add_argument("--idle-seconds", type=float, default=10.0)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="taskctl-cost-")
    server, url = start_redis(tmp)
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        TASKCTL_SETTINGS="taskctl.settings",
        TASKCTL_BROKER_URL=url,
        TASKCTL_DATABASE_URL=f"sqlite:///{tmp}/cost.sqlite3",
        TASKCTL_ALLOWED_CALLABLES="examples",
        PYTHONPATH=str(REPO),
    )
    import redis

    r = redis.Redis.from_url(url, decode_responses=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "taskctl", "db", "migrate"],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        empty = int(r.info("memory")["used_memory"])
        code = (
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'taskctl.settings');"
            "django.setup();"
            "from scheduler_core.queues.queue import JobCall, get_queue;"
            "get_queue('default').enqueue_many("
            f"JobCall('examples.jobs.hello', ('x',)) for _ in range({args.jobs}))"
        )
        subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True)
        queued = int(r.info("memory")["used_memory"])
        worker = taskctl(env, "worker", "start", "--burst", "--without-scheduler", stderr=subprocess.DEVNULL)
        worker.wait(600)
        finished = int(r.info("memory")["used_memory"])
        keys = r.dbsize()
        results: dict[str, Any] = {
            "jobs": args.jobs,
            "bytes_per_queued_job": round((queued - empty) / args.jobs),
            "bytes_per_finished_job": round((finished - empty) / args.jobs),
            "keys_after_drain": keys,
            "redis_version": r.info("server")["redis_version"],
            "idle_workers": [
                idle_worker(env, r, c, s, args.idle_seconds) for c in (1, 8) for s in (False, True)
            ],
        }
        print(json.dumps(results))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
