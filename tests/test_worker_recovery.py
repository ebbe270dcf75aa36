"""Dead-worker recovery: SIGKILLed workers lose no job (at-least-once on recovery)."""

from __future__ import annotations

import random
import signal
import time

import pytest

from scheduler_core.jobs.record import JobStatus, Retry
from scheduler_core.queues.invariants import check
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.worker import control
from tests.processes import WorkerProc, runs, wait_for, wait_status

pytestmark = [pytest.mark.process, pytest.mark.slow]


def test_sigkill_five_times_loses_nothing(worker: WorkerProc) -> None:
    rng = random.Random(4)
    q = get_queue("default")
    calls = [
        JobCall("tests.jobs.record", (f"j{i}", rng.uniform(0, 0.05)), retry=Retry(5, (0,)))
        for i in range(200)
    ]
    jobs = q.enqueue_many(calls)
    for _ in range(5):
        proc = worker.start("--concurrency", "2")
        time.sleep(rng.uniform(0.2, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    worker.start("--concurrency", "2")  # recovers the dead workers' jobs once their leases expire
    terminal = ("finished", "failed", "canceled")
    wait_for(lambda: sum(q.count(r) for r in terminal) == 200, 60, "every job to end")
    report = check(q)
    assert report.ok, report
    assert report.in_registries == {
        "scheduled": 0,
        "queued": 0,
        "active": 0,
        "finished": 200,
        "failed": 0,
        "canceled": 0,
    }
    recovered = 0
    for i, job in enumerate(jobs):
        got = q.fetch_job(job.id)
        assert got is not None and got.status is JobStatus.FINISHED
        n = runs(f"j{i}")
        assert 1 <= n <= got.attempt, (job.id, n, got.attempt)  # a second run only after a recovery
        recovered += got.attempt > 1
    assert recovered <= 5 * 2  # at most one job per execution process per kill

    wait_for(
        lambda: [w["name"] for w in control.list_workers()] == [worker.name],
        10,
        "dead worker records removed",
    )


def test_worker_lost_without_retries_fails_with_reason(worker: WorkerProc) -> None:
    q = get_queue("default")
    job = q.enqueue("tests.jobs.sleep", 30)
    proc = worker.start()
    wait_status(q, job, JobStatus.ACTIVE)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    worker.start()
    got = wait_status(q, job, JobStatus.FAILED, timeout=15)
    assert got.exc_type == "WorkerLost" and "worker lost" in got.exc_message
    assert check(q).ok
