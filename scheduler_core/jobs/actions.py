"""Operator actions on one job found by id: requeue, cancel, stop, delete (`taskctl jobs ...`).

Each looks the job up (in one queue, or in every configured queue), acts on it, and returns the
job as it was found. A job in a state the action does not apply to is InvalidInput (exit 3), with
the state in the message; an unreachable broker is BrokerUnavailable (exit 69).
"""

from __future__ import annotations

from collections.abc import Callable

from scheduler_core.errors import InvalidInput, NotFound
from scheduler_core.inspect import broker_errors
from scheduler_core.jobs.record import Job, JobStatus
from scheduler_core.queues.queue import find_job, get_queue


def _act(job_id: str, queue: str | None, action: Callable[[Job], None]) -> Job:
    with broker_errors(get_queue(queue).broker_url if queue else None):
        job = find_job(job_id, queue)
        action(job)
    return job


def requeue(job_id: str, queue: str | None = None) -> Job:
    """Put a failed or canceled job back in its queue."""

    def action(job: Job) -> None:
        if not get_queue(job.queue).requeue(job_id):
            raise InvalidInput(
                f"job {job_id} is {job.status.value}: only failed or canceled jobs can be requeued"
            )

    return _act(job_id, queue, action)


def cancel(job_id: str, queue: str | None = None) -> Job:
    """Cancel a job that has not started (queued or scheduled)."""

    def action(job: Job) -> None:
        if not get_queue(job.queue).cancel(job_id):
            raise InvalidInput(
                f"job {job_id} is {job.status.value}: only queued or scheduled jobs can be canceled"
            )

    return _act(job_id, queue, action)


def stop(job_id: str, queue: str | None = None) -> Job:
    """Ask the worker running a job to stop it (over the commands channel)."""

    def action(job: Job) -> None:
        if job.status is not JobStatus.ACTIVE or not job.worker:
            raise InvalidInput(f"job {job_id} is {job.status.value}, not running: nothing to stop")
        from scheduler_core.worker import control

        control.send_stop(job)

    return _act(job_id, queue, action)


def delete(job_id: str, queue: str | None = None) -> Job:
    """Delete a job and its record (a running job must be stopped first)."""

    def action(job: Job) -> None:
        if not get_queue(job.queue).delete(job_id):
            raise NotFound(f"job {job_id!r} not found")

    return _act(job_id, queue, action)
