"""A taskctl job record seen as a django.tasks `TaskResult` (what `get_result` returns).

taskctl keeps one record per job, not one row per attempt, so: `started_at` and `last_attempted_at`
are both the latest attempt's start; `errors` holds the latest failure (kept while later attempts
run); `worker_ids` has one entry per attempt made (the latest worker's name: `attempts` is right).
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from scheduler_core.backend.compat import AnyResult, AnyTask, TaskError, TaskResult, TaskResultStatus
from scheduler_core.jobs.record import Job, JobStatus

STATUS = {
    JobStatus.SCHEDULED: TaskResultStatus.READY,  # deferred, or waiting for a retry
    JobStatus.QUEUED: TaskResultStatus.READY,
    JobStatus.ACTIVE: TaskResultStatus.RUNNING,
    JobStatus.FINISHED: TaskResultStatus.SUCCESSFUL,
    JobStatus.FAILED: TaskResultStatus.FAILED,
    JobStatus.STOPPED: TaskResultStatus.FAILED,  # ended by `taskctl jobs stop`
    JobStatus.CANCELED: TaskResultStatus.FAILED,  # never ran: "unable to start"
}
_RAN = (JobStatus.ACTIVE, JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED)
_WORKER_EXCEPTIONS = "scheduler_core.worker.timeouts"  # JobTimeout, JobStopped, WorkerLost


def exception_class_path(name: str) -> str:
    """The importable path of a recorded exception type (the worker writes builtins bare)."""
    if "." in name:
        return name
    if isinstance(getattr(builtins, name, None), type):
        return f"builtins.{name}"
    return f"{_WORKER_EXCEPTIONS}.{name}"


def attempts_made(job: Job) -> int:
    """Attempts that started: a job waiting (queued, scheduled for a retry) is on `attempt`, not yet run."""
    if job.status in _RAN and job.started_at is not None:
        return job.attempt
    return max(job.attempt - 1, 0) if job.started_at is not None or job.attempt > 1 else 0


def to_result(task: AnyTask, job: Job, backend: str, *, status: Any = None) -> AnyResult:
    """The TaskResult of `job` (which runs `task`); `status` overrides the record's (the worker's view)."""
    state = STATUS[job.status] if status is None else status
    made = attempts_made(job)
    errors = (
        [TaskError(exception_class_path=exception_class_path(job.exc_type), traceback=job.traceback)]
        if job.exc_type
        else []
    )
    ended = state in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
    finished: datetime | None = job.ended_at if ended else None
    result: AnyResult = TaskResult(
        task=task,
        id=job.id,
        status=state,
        enqueued_at=job.created_at,
        started_at=job.started_at if made else None,
        finished_at=finished,
        last_attempted_at=job.started_at if made else None,
        args=job.args,
        kwargs=job.kwargs,
        backend=backend,
        errors=errors,
        worker_ids=[job.worker or "unknown"] * made,
    )
    if state == TaskResultStatus.SUCCESSFUL:
        object.__setattr__(result, "_return_value", job.result)
    return result
