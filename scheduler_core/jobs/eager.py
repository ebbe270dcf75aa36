"""SCHEDULER["EAGER"]: an enqueue runs the job at once in the caller's process, with no broker.

The job goes through what a worker would apply: the same validation (done by the enqueue), its
arguments as they come back from JSON, ALLOWED_CALLABLES at run time, retries (at once: nothing
waits for a backoff), the soft timeout where a SIGALRM handler can be set (the main thread),
`get_current_job()`, callbacks and the owning task's bookkeeping. The Job returned by the
enqueue is the record: its status, result or error, attempt and meta.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scheduler_core.jobs import failure
from scheduler_core.jobs.record import Job, JobStatus, loads
from scheduler_core.worker import running, timeouts
from scheduler_core.worker.running import AfterWork, Callables, Ran

if TYPE_CHECKING:
    from scheduler_core.queues.queue import Queue

log = logging.getLogger("taskctl.eager")

CALLBACK_TIMEOUT = 60.0  # seconds, as a worker's default --callback-timeout


def run_eager(queue: Queue, job: Job, spec: bytes) -> Job:
    """Run `job` (whose encoded spec is `spec`) to its last outcome; returns it, updated."""
    decoded = loads(spec)
    job.args, job.kwargs, job.meta = decoded["args"], decoded["kwargs"], decoded.get("meta", {})
    job.delivery = "eager"
    job.worker = "eager"
    callables: Callables = queue.callables
    with timeouts.in_caller() as timeouts_on:
        ran = _attempts(callables, job, timeouts_on, queue.config.max_result_bytes)
        finish_in_caller(job, ran, callables, timeouts_on)
    return job


def _attempts(callables: Callables, job: Job, timeouts_on: bool, max_result_bytes: int) -> Ran:
    while True:
        job.status = JobStatus.ACTIVE
        job.started_at = datetime.now(UTC)
        ran = running.run(callables, job, max_result_bytes, timeouts_on=timeouts_on)
        if ran.ok or ran.exc is None or failure.retry_in(job, ran.exc) is None:
            return ran  # the one retry rule (jobs.failure), without waiting for the backoff
        log.info("job %s %s: attempt %d failed (%s), retrying at once", job.id, job.callable, job.attempt,
                 ran.fields["exc_type"])  # fmt: skip
        job.retries_left -= 1
        job.attempt += 1


def finish_in_caller(job: Job, ran: Ran, callables: Callables, timeouts_on: bool) -> AfterWork:
    """Set the outcome on `job` (the result as a worker stores it: JSON, or its repr), then run the
    callback and the task bookkeeping on the caller's database connection."""
    job.ended_at = datetime.now(UTC)
    f = ran.fields
    if ran.ok:
        job.status = JobStatus.FINISHED
        job.result = loads(f["result"])
        job.result_is_repr = f.get("result_repr") == "1"
    else:
        job.status = JobStatus.FAILED
        job.exc_type, job.exc_message, job.traceback = f["exc_type"], f["exc_message"], f["traceback"]
        log.info("job %s %s failed: %s: %s", job.id, job.callable, job.exc_type, job.exc_message)
    work = AfterWork(job, job.status, ran.result, job.exc_type, job.exc_message, job.traceback)
    running.run_callback(work, callables, CALLBACK_TIMEOUT if timeouts_on else 0)
    if job.task_id is not None:
        running.record_task_run(work, reconnect=False)
    return work
