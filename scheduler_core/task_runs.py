"""Task bookkeeping after a run: the worker calls `record_run` when a task's job ends.

Stub until the scheduler issue fills it in (atomic F() updates of the Task's status fields).
"""

from __future__ import annotations

from datetime import datetime


def record_run(task_id: int, occurrence: datetime | None, status: str, ended_at: datetime) -> None:
    """Record that the job of `task_id` for `occurrence` ended with `status` (finished, failed, stopped)."""
    return None
