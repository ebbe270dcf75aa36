"""What happens to a job after a failed attempt: the one retry-or-fail rule.

Every path that ends an attempt without a result asks `retry_in()`: the execution process when
the job raised, the supervisor when it killed the process (hard timeout) or found it dead, and
the reaper when the job's lease expired (its worker was lost). The answer is the wait before the
next attempt, or None when the failure is final. The Lua scripts only move the job.

The rule: an attempt is retried while the job has retries left, after `backoff[attempt - 1]`
seconds (the last value repeating), unless the failure cannot be helped by another attempt (the
callable cannot be imported or is not allowed) or was asked for (a stop).
"""

from __future__ import annotations

from scheduler_core.errors import CallableError
from scheduler_core.jobs.record import Job, Retry


class JobTimeout(Exception):
    """The job (or callback) ran longer than its timeout."""


class JobStopped(Exception):
    """The job was stopped by a command or by a cold shutdown."""


class WorkerLost(Exception):
    """The process running the job died, or its worker's lease on the job expired."""


# failures another attempt cannot help, or that were asked for
_FINAL: tuple[type[BaseException], ...] = (CallableError, JobStopped)


def retry_in(job: Job, exc: BaseException) -> float | None:
    """Seconds before the next attempt of `job` after it failed with `exc`; None: it failed."""
    if job.retries_left <= 0 or isinstance(exc, _FINAL):
        return None
    return float(Retry(max=0, backoff=tuple(job.backoff)).delay(job.attempt))
