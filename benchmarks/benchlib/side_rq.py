"""The RQ side of every scenario (runs in benchmarks/.venv-peers).

RQ 2.x, checked against the installed package: `Queue.enqueue`, `Queue.enqueue_many` with
`Queue.prepare_data`, `rq worker [-w rq.worker.SimpleWorker] --burst --url URL -q`, `rq worker
--with-scheduler`, `rq info --url URL`. Workers run quiet (-q: WARNING), as the other systems do
by default, so per-job log lines cost nothing here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from benchlib.common import FAIL, NOOP, base_env

WORKER_CLASSES = {"worker": "rq.worker.Worker", "simple": "rq.worker.SimpleWorker"}


def _url() -> str:
    return os.environ["BENCH_REDIS_URL"]


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def setup(queues: list[str] | None = None, *, migrate: bool = False) -> None:
    """RQ needs no configuration beyond the Redis URL."""


def cleanup() -> None:
    pass


def queue(name: str = "default") -> Any:
    from redis import Redis
    from rq import Queue

    return Queue(name, connection=Redis.from_url(_url()))


def enqueue_one() -> Any:
    q = queue()
    return lambda: q.enqueue(NOOP)


def enqueue_bulk(n: int, batch: int = 10_000) -> None:
    from rq import Queue

    q = queue()
    for start in range(0, n, batch):
        q.enqueue_many([Queue.prepare_data(NOOP) for _ in range(min(batch, n - start))])


def enqueue_stamp(key: str) -> None:
    queue().enqueue("benchlib.jobs.stamp", key)


def fill_noops(n: int) -> None:
    enqueue_bulk(n)


def child_env() -> dict[str, str]:
    return base_env()


def worker_argv(
    variant: str, *, burst: bool, with_scheduler: bool = False, queues: tuple[str, ...] = ("default",)
) -> list[str]:
    if variant.startswith("pool"):  # "pool8": rq worker-pool -n 8 (a pool process, 8 forking workers)
        return [_bin("rq"), "worker-pool", "--url", _url(), "-q", "-n", variant[4:], *queues]
    argv = [_bin("rq"), "worker", "--url", _url(), "-q", "-w", WORKER_CLASSES[variant]]
    if burst:
        argv.append("--burst")
    if with_scheduler:
        argv.append("--with-scheduler")
    return [*argv, *queues]


def make_templates(queue_name: str) -> dict[str, str]:
    """One real queued, finished and failed job on `queue_name`, made by RQ itself."""
    from rq import SimpleWorker

    q = queue(queue_name)
    done, failed = q.enqueue(NOOP), q.enqueue(FAIL)
    SimpleWorker([q], connection=q.connection).work(burst=True, logging_level="ERROR")
    waiting = q.enqueue(NOOP)
    assert done.get_status(refresh=True) == "finished" and failed.get_status(refresh=True) == "failed"
    return {"queued": waiting.id, "finished": done.id, "failed": failed.id}


def stats_argv(queues: list[str]) -> list[str]:
    return [_bin("rq"), "info", "--url", _url()]


def pending(r: Any, queue_name: str = "default") -> int:
    """Jobs still waiting in the queue (RQ keeps them in the list rq:queue:<name>)."""
    return int(r.llen(f"rq:queue:{queue_name}"))
