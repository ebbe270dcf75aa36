"""A task as the scheduler reads it: one `values()` row (TaskRow), and the zone its schedule runs in.

The planner, the recovery of a lost broker and the re-planning of edited tasks all read tasks as
these rows (a `values()` query is several times cheaper than model instances for thousands of
due tasks), and all pass them to the schedule arithmetic of tasks/schedules.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from django.conf import settings


class TaskRow(TypedDict):
    id: int
    type: str
    callable: str
    args: list[Any] | None
    kwargs: dict[str, Any] | None
    queue: str
    enabled: bool
    cron: str
    timezone: str
    interval: int | None
    repeat: int | None
    at: datetime | None
    created_at: datetime
    timeout: int | None
    result_ttl: int | None
    failure_ttl: int | None
    at_front: bool
    on_success: str
    on_failure: str
    on_stopped: str
    retry_max: int
    retry_backoff: list[int] | None
    misfire: str
    overlap: str
    next_run_at: datetime | None
    pending_job_id: str
    updated_at: datetime
    last_run_at: datetime | None
    spec_hash: str


FIELDS: tuple[str, ...] = tuple(TaskRow.__annotations__)  # the columns of a TaskRow, in order


def task_zone(timezone: str) -> str:
    """The one timezone rule: a task's schedule runs in its own `timezone` when it names one,
    else in the project's TIME_ZONE setting, else in UTC."""
    return timezone or str(getattr(settings, "TIME_ZONE", "UTC") or "UTC")
