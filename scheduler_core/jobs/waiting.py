"""Job.wait: block until a job is terminal, woken by the broker rather than by polling.

`watch.lua` counts the caller as a waiter on the record and returns the status in one step; the
terminal move (finish, reap, cancel) then pushes one token per waiter on the job's done list,
which the caller BLPOPs. The wait is cut in slices of a few seconds, after each of which the
record is read once: that covers what pushes no token (a deleted record, a broker that lost it).
"""

from __future__ import annotations

import time
from typing import Any

from scheduler_core.errors import JobFailed, NotFound, UsageError
from scheduler_core.jobs.record import TERMINAL_STATUSES, Job, JobStatus
from scheduler_core.queues.queue import get_queue

SLICE = 5.0  # seconds of one BLPOP (well under the client's 30 s socket timeout)


def wait(job: Job, timeout: float | None) -> Any:
    if job.delivery == "on_commit":
        raise UsageError(f"job {job.id} is not in the broker yet: it is sent when its transaction commits")
    if job.delivery == "eager" or job.is_terminal:
        return outcome(job)
    queue = get_queue(job.queue)
    deadline = None if timeout is None else time.monotonic() + timeout
    status = queue.watch(job.id)
    while status is not None and JobStatus(status) not in TERMINAL_STATUSES:
        left = SLICE if deadline is None else min(SLICE, deadline - time.monotonic())
        if left <= 0:
            raise TimeoutError(f"job {job.id} did not end within {timeout:g}s (it is {status})")
        token = queue.wait_done(job.id, left)
        status = token if token is not None else queue.status_of(job.id)
    if status is None:
        raise NotFound(f"job {job.id!r} not found in queue {job.queue!r} (deleted or expired)")
    try:
        job.refresh()
    except NotFound:  # result_ttl / failure_ttl 0: the token is all that is left
        job.status = JobStatus(status)
    return outcome(job)


def outcome(job: Job) -> Any:
    """The result of a finished job; JobFailed for a failed, stopped or canceled one."""
    if job.status is JobStatus.FINISHED:
        return job.result
    if job.status in TERMINAL_STATUSES:
        raise JobFailed(job)
    raise UsageError(f"job {job.id} has not ended (it is {job.status.value})")
