"""A task as the scheduler reads it: one `values()` row (TaskRow), and the zone its schedule runs in.

The planner, the recovery of a lost broker and the re-planning of edited tasks all read tasks as
these rows (a `values()` query is several times cheaper than model instances for thousands of
due tasks), and all pass them to the schedule arithmetic of tasks/schedules.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings

from scheduler_core.tasks.schedules import occurrences_after


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
    invalid_reason: str  # why the scheduler quarantined the row ("" when it plans normally)


FIELDS: tuple[str, ...] = tuple(TaskRow.__annotations__)  # the columns of a TaskRow, in order


def task_zone(timezone: str) -> str:
    """The one timezone rule: a task's schedule runs in its own `timezone` when it names one,
    else in the project's TIME_ZONE setting, else in UTC."""
    return timezone or str(getattr(settings, "TIME_ZONE", "UTC") or "UTC")


# ----- a row's schedule -----
def anchor_of(row: TaskRow) -> datetime | None:
    """A REPEATABLE's first run: its `at`, else when it was created."""
    return row.get("at") or row.get("created_at")


def iter_after(row: TaskRow, after: datetime, tz_name: str) -> Iterator[datetime]:
    """The task's occurrences strictly after `after`, lazily (a cron is not expanded past need)."""
    return occurrences_after(str(row["type"]), after=after, cron=row["cron"], tz_name=tz_name,
                             at=anchor_of(row), interval=row["interval"], repeat=row["repeat"])  # fmt: skip


def first_after(row: TaskRow, after: datetime, tz_name: str) -> datetime | None:
    return next(iter_after(row, after, tz_name), None)


def initial_next_run(row: TaskRow, now: datetime, grace: timedelta, tz_name: str) -> datetime | None:
    """Where a new or edited task starts: its first occurrence after `now - grace` (so the anchor
    run of a REPEATABLE created a moment ago is not lost), or None when it has none left."""
    return first_after(row, now - grace, tz_name)
