"""`drain(*queues)`: run queued (and due scheduled) jobs in the calling process, as a worker would,
on the caller's database connection (see scheduler_core.testing)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from scheduler_core.broker.translate import broker_error
from scheduler_core.errors import UsageError
from scheduler_core.jobs import failure
from scheduler_core.jobs.record import Job, JobStatus
from scheduler_core.queues import lifecycle
from scheduler_core.queues.lifecycle import Outcome
from scheduler_core.queues.queue import Queue, all_queues, get_queue
from scheduler_core.worker import running, timeouts
from scheduler_core.worker.running import AfterWork

CALLBACK_TIMEOUT = 60.0  # seconds, as a worker's default --callback-timeout


def drain(*queues: str | Queue, max_jobs: int = 10_000) -> int:
    """Run every queued job of `queues` (default: every configured queue), and every scheduled
    one already due, in this process and thread until none is left; returns how many runs there
    were (a retried job counts once per attempt: retries run at once, with no backoff wait).

    The jobs run as a worker runs them (claimed, `get_current_job()`, callbacks, outcomes and
    meta recorded in the broker, the task's bookkeeping) but on the caller's database
    connection: in a TestCase they see the test's uncommitted rows. Jobs scheduled in the future
    stay. `max_jobs` stops a job that keeps enqueueing itself (UsageError)."""
    qs = [get_queue(q) if isinstance(q, str) else q for q in queues] or all_queues()
    worker = f"drain-{socket.gethostname()}-{os.getpid()}"
    runs = 0
    current: Queue = qs[0]
    try:
        with timeouts.in_caller() as timeouts_on:
            while True:
                before = runs
                for q in qs:
                    current = q
                    runs += _drain_one(q, worker, timeouts_on, max_jobs - runs)
                if runs == before:
                    return runs
    except Exception as exc:
        err = broker_error(exc, current.broker_url)
        if err is None:
            raise
        raise err from exc


def _drain_one(queue: Queue, worker: str, timeouts_on: bool, budget: int) -> int:
    queue.promote_due()
    runs = 0
    while True:
        if runs >= budget:
            raise UsageError(
                f"drain: queue {queue.name!r} is still not empty after the max_jobs runs "
                "(a job that enqueues itself?)"
            )
        job = lifecycle.claim(queue, worker)
        if job is None:
            return runs
        _run(queue, job, worker, timeouts_on)
        runs += 1


def _run(queue: Queue, job: Job, worker: str, timeouts_on: bool) -> None:
    ran = running.run(queue.callables, job, queue.config.max_result_bytes, timeouts_on=timeouts_on)
    if not ran.ok and ran.exc is not None and failure.retry_in(job, ran.exc) is not None:
        lifecycle.retry_later(queue, job, 0.0, ran.fields)  # due now: the next round runs it
        return
    status = JobStatus.FINISHED if ran.ok else JobStatus.FAILED
    f = ran.fields
    work = AfterWork(job, status, ran.result, f.get("exc_type", ""), f.get("exc_message", ""),
                     f.get("traceback", ""))  # fmt: skip
    running.run_callback(work, queue.callables, CALLBACK_TIMEOUT if timeouts_on else 0)
    recorded, _ = lifecycle.complete(queue, job, Outcome(status, ran.fields), worker=worker)
    if recorded and job.task_id is not None:
        job.ended_at = datetime.now(UTC)
        running.record_task_run(work, reconnect=False)
