#!/usr/bin/env python
"""drain on a Redis Cluster beside one node: the same load, in the same run.

    .venv/bin/python benchmarks/cluster_drain.py [--n 20000] [--repeat 3] [--concurrency 1]

Starts its own servers on loopback (one redis-server; six with --cluster-enabled, three masters
and three replicas, made by `redis-cli --cluster create`), all without persistence, and stops
them at the end. Each run enqueues N no-op jobs spread evenly over four queues (q0..q3: their
slots fall on all three masters), then two burst workers (`worker start --burst q0 q1 q2 q3`)
drain them. jobs_per_s counts from the first job taken to the last worker's exit.
Prints a table and one JSON line per target (medians of the runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
QUEUES = ["q0", "q1", "q2", "q3"]


def configure(url: str, prefix: str) -> None:
    """This process's taskctl configuration on `url` (Django set up once, the config reset after)."""
    from django.conf import settings

    if not settings.configured:
        import django

        settings.configure(
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "scheduler_core"],
            USE_TZ=True, DEFAULT_AUTO_FIELD="django.db.models.BigAutoField", SCHEDULER={},
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        )  # fmt: skip
        django.setup()
    from scheduler_core.broker.connection import reset_clients
    from scheduler_core.conf import reset_config

    settings.SCHEDULER = {"BROKER_URL": url, "QUEUES": {q: {} for q in QUEUES}, "KEY_PREFIX": prefix}
    reset_config()
    reset_clients()


def queued() -> int:
    from scheduler_core.queues.queue import get_queue

    return sum(get_queue(q).count("queued") for q in QUEUES)


def one_run(url: str, n: int, concurrency: int, db: str, log: Path) -> dict[str, Any]:
    from scheduler_core.queues.queue import JobCall, get_queue

    prefix = f"bench{uuid.uuid4().hex[:8]}"
    configure(url, prefix)
    for q in QUEUES:
        get_queue(q).enqueue_many(JobCall("benchlib.jobs.noop") for _ in range(n // len(QUEUES)))
    total = n // len(QUEUES) * len(QUEUES)
    env = dict(os.environ)
    env.update({
        "TASKCTL_BROKER_URL": url, "TASKCTL_QUEUES": ",".join(QUEUES), "TASKCTL_KEY_PREFIX": prefix,
        "TASKCTL_DATABASE_URL": db, "PYTHONPATH": str(REPO / "benchmarks"),
    })  # fmt: skip
    env.pop("DJANGO_SETTINGS_MODULE", None)
    argv = [sys.executable, "-m", "taskctl", "worker", "start", "--burst", "--without-scheduler",
            "--concurrency", str(concurrency), *QUEUES]  # fmt: skip
    t_start = time.perf_counter()
    with open(log, "ab") as err:
        procs = [subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err) for _ in range(2)]
    t_first = None
    while any(p.poll() is None for p in procs):
        if t_first is None and queued() < total:
            t_first = time.perf_counter()
        time.sleep(0.002)
    t_end = time.perf_counter()
    codes = [p.returncode for p in procs]
    if any(codes):
        raise RuntimeError(f"a worker exited {codes}: see {log}")
    finished = sum(get_queue(q).count("finished") for q in QUEUES)
    t_first = t_first or t_start
    return {
        "n": total,
        "finished": finished,
        "seconds": round(t_end - t_first, 4),
        "jobs_per_s": round(finished / (t_end - t_first), 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=1, help="execution processes per worker")
    args = p.parse_args()

    from tests.engines.servers import ClusterSetup, Deployment, pick_ports, slot_of, wait_until

    single = Deployment()
    cluster: ClusterSetup | None = None
    tmp = tempfile.mkdtemp(prefix="bench-cluster-")
    db = f"sqlite:///{tmp}/db.sqlite3"
    try:
        (port,) = pick_ports(1)
        single.server("single", port)
        import redis

        wait_until(redis.Redis(port=port).ping, 10, "the single node")
        cluster = ClusterSetup()
        masters = {cluster.master_of(slot_of(q)) for q in QUEUES}
        assert len(masters) == 3, "q0..q3 should fall on the three masters"
        migrate = [sys.executable, "-m", "taskctl", "db", "migrate"]
        subprocess.run(
            migrate, env={**os.environ, "TASKCTL_DATABASE_URL": db}, check=True, capture_output=True
        )
        targets = {"one node": f"redis://127.0.0.1:{port}/0", "cluster, 3 masters": cluster.url}
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for _ in range(args.repeat):  # interleaved: both targets see the same machine load
            for name, url in targets.items():
                results[name].append(one_run(url, args.n, args.concurrency, db, Path(tmp) / "workers.log"))
        print(
            f"drain of {args.n} no-op jobs over 4 queues, 2 burst workers x --concurrency {args.concurrency}"
        )
        print(f"{'target':<22}{'jobs/s (median)':>18}{'runs':>40}")
        for name, runs in results.items():
            rates = [r["jobs_per_s"] for r in runs]
            print(f"{name:<22}{statistics.median(rates):>18,.0f}{', '.join(f'{r:,.0f}' for r in rates):>40}")
        one = statistics.median(r["jobs_per_s"] for r in results["one node"])
        for name, runs in results.items():
            rate = statistics.median(r["jobs_per_s"] for r in runs)
            record = {"scenario": "cluster_drain", "target": name, "n": args.n,
                      "concurrency": args.concurrency, "jobs_per_s": rate,
                      "vs_one_node": round(rate / one, 3), "runs": runs}  # fmt: skip
            print(json.dumps(record))
    finally:
        if cluster is not None:
            cluster.stop()
        single.stop()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
