"""The job an execution process is running now (set around the call by running.run).

Read by code that runs inside a job and needs its record: the django.tasks runner builds the
task's TaskContext (id, attempt, worker) from it."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler_core.jobs.record import Job

running_job: ContextVar[Job | None] = ContextVar("taskctl_running_job", default=None)
