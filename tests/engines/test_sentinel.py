"""Sentinel end to end: a real master, a replica and three sentinels; workers, the CLI's one-shot
client, the commands channel and the scheduler all go through the Sentinel URL, and follow the
master across a `SENTINEL FAILOVER` in the middle of a drain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler_core.jobs.record import Retry
from scheduler_core.queues.queue import JobCall, get_queue
from tests.engines.conftest import EngineWorkers, configure, finished, needs_servers, run_counts
from tests.engines.servers import SentinelSetup
from tests.processes import runs as runs_of
from tests.processes import wait_for

pytestmark = [pytest.mark.engines, needs_servers]
QUEUES = ["default", "low"]
ALL = [*QUEUES, "tick"]  # the task runs on a queue of its own
N = 300  # jobs per drain


@pytest.fixture(scope="module")
def sentinel() -> Iterator[SentinelSetup]:
    setup = SentinelSetup()
    yield setup
    setup.stop()


def enqueue(prefix: str, batch: str) -> list[str]:
    """N jobs over both queues, each recording its own token; with retries, so that a job whose
    outcome the failover dropped (asynchronous replication) runs again once its lease expires."""
    ids = []
    for qname in QUEUES:
        calls = [
            JobCall("tests.jobs.record", (f"{batch}-{qname}-{i}", 0.03), retry=Retry(3))
            for i in range(N // len(QUEUES))
        ]
        ids += [j.id for j in get_queue(qname).enqueue_many(calls)]
    return ids


def runs(prefix: str, batch: str) -> list[int]:
    return run_counts(prefix, (f"{batch}-{q}-{i}" for q in QUEUES for i in range(N // len(QUEUES))))


def test_drain_across_a_sentinel_failover(
    sentinel: SentinelSetup, key_prefix: str, tmp_path: Path, settings: Any
) -> None:
    configure(settings, sentinel.url, ALL)
    workers = EngineWorkers(key_prefix, tmp_path, sentinel.url, ALL, db=f"sqlite:///{tmp_path}/s.sqlite3")
    apply_tick(workers, tmp_path)
    try:
        enqueue(key_prefix, "a")
        sentinel.direct(sentinel.master()).execute_command("WAIT", 1, 2000)  # the replica has them all
        a = workers.start("-c", "2", "--with-scheduler", *ALL, name=f"a-{key_prefix}")
        workers.start("-c", "2", *ALL, name=f"b-{key_prefix}")
        wait_for(lambda: finished(QUEUES) >= N // 4, 30, "a quarter of the drain")
        assert finished(QUEUES) < N, "the drain ended before the failover: make the jobs longer"
        old = sentinel.master()
        new = sentinel.failover()
        assert new != old
        wait_for(lambda: finished(QUEUES) == N, 60, "the first drain to end on the new master")
        # the scheduler found the new master too: its task keeps running
        ticks = runs_of("tick")
        wait_for(lambda: runs_of("tick") >= ticks + 2, 30, "the task to run on the new master")

        # drain again, everything through the new master
        enqueue(key_prefix, "b")
        wait_for(lambda: finished(QUEUES) == 2 * N, 60, "the second drain")
        for batch in ("a", "b"):
            counts = runs(key_prefix, batch)
            assert min(counts) >= 1, f"batch {batch}: {counts.count(0)} jobs never ran"
            # at least once: a job runs again only when the failover dropped its outcome
            assert sum(counts) - N <= 8, f"batch {batch}: {sum(counts) - N} duplicates"
        for qname in QUEUES:
            left = get_queue(qname).counts()
            assert left["queued"] == left["active"] == left["scheduled"] == left["failed"] == 0, left

        # the CLI's one-shot client asks the sentinels where the master is
        shown = workers.taskctl("queues", "show", "-o", "json")
        assert shown.returncode == 0, shown.stderr
        rows = {r["name"]: r for r in json.loads(shown.stdout)["queues"]}
        assert sum(rows[q]["finished"] for q in QUEUES) == 2 * N
        listed = workers.taskctl("workers", "list", "-o", "json")
        assert sum(rows[q]["workers"] for q in QUEUES) == 4, (
            json.dumps(rows) + listed.stdout
        )  # both workers, on both queues

        # the commands channel followed the master: a warm stop reaches the worker
        stop = workers.taskctl("workers", "stop", f"a-{key_prefix}")
        assert stop.returncode == 0, stop.stderr
        assert a.wait(20) == 0, workers.stderr()
    finally:
        workers.stop_all()


def apply_tick(workers: EngineWorkers, tmp_path: Path) -> None:
    """A migrated database of the test's own with one task, every second on `tick`."""
    assert workers.taskctl("db", "migrate").returncode == 0
    (tmp_path / "tasks.yaml").write_text(
        "version: 1\nset: engines\ntasks:\n  - name: tick\n    type: repeatable\n"
        "    callable: tests.jobs.record\n    args: [tick]\n    queue: tick\n    interval: 1s\n"
    )
    applied = workers.taskctl("tasks", "apply", "-f", str(tmp_path / "tasks.yaml"))
    assert applied.returncode == 0, applied.stderr


def test_scheduler_and_burst_worker_through_sentinel(
    sentinel: SentinelSetup, key_prefix: str, tmp_path: Path, settings: Any
) -> None:
    """A task planned by `worker start --with-scheduler` through the Sentinel URL runs; a burst
    worker then drains what is left (the issue's report: 0 of 500 ran)."""
    db = f"sqlite:///{tmp_path}/sched.sqlite3"
    configure(settings, sentinel.url, ALL)
    workers = EngineWorkers(key_prefix, tmp_path, sentinel.url, ALL, db=db)
    apply_tick(workers, tmp_path)
    try:
        workers.start("--with-scheduler", *ALL)
        wait_for(lambda: runs_of("tick") >= 2, 30, "the scheduled task to run twice")
        workers.stop_all()
        get_queue("default").enqueue_many([JobCall("tests.jobs.noop") for _ in range(500)])
        burst = workers.start("--burst", *ALL, wait=False)
        assert burst.wait(60) == 0, workers.stderr()
        assert get_queue("default").count("finished") == 500
        assert get_queue("default").count("queued") == 0
    finally:
        workers.stop_all()
