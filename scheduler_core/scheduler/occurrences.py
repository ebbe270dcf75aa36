"""What one task plans in one pass: pure arithmetic on a task's schedule, no DB, no broker.

`next_run_at` is the task's first occurrence not yet handed to the broker. A pass hands over every
occurrence up to `now + lookahead` (as scheduled jobs), then moves `next_run_at` past them.

- misfire: `next_run_at` older than `now - grace` means the scheduler was down. `skip` plans the
  next future occurrence only; `run_once` runs one catch-up now (for the first missed occurrence)
  and then resumes the grid. Within `grace`, a late occurrence is just late, not missed.
- overlap `skip`: the occurrence is handed over only when it is due, and only if the previous run
  is no longer waiting or running (`busy`); otherwise that occurrence is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

MAX_PER_TASK = 500  # occurrences one task hands over in one pass (a 1 s task, 60 s look-ahead: 61)


@dataclass
class TaskPlan:
    """The outcome for one task: jobs to enqueue as (occurrence, due) and the new next_run_at."""

    jobs: list[tuple[datetime, datetime]] = field(default_factory=list)
    next_run_at: datetime | None = None
    skipped: int = 0  # occurrences skipped (misfire skip, overlap skip)
    deferred: bool = False  # overlap skip, not due yet: nothing changes this pass


def job_id(task_id: int, occurrence: datetime) -> str:
    """The deterministic id of one occurrence's job: `task-<id>-<epoch seconds>`."""
    return f"task-{task_id}-{int(occurrence.timestamp())}"


def anchor_of(row: dict[str, Any]) -> datetime | None:
    return row.get("at") or row.get("created_at")


def iter_after(row: dict[str, Any], after: datetime, tz_name: str) -> Iterator[datetime]:
    """The task's occurrences strictly after `after`, lazily (a cron is not expanded past need)."""
    from scheduler_core.tasks.schedules import repeatable_at, repeatable_index_after

    kind = str(row["type"]).lower()
    if kind == "cron":
        cur: datetime | None = after
        while cur is not None:
            cur = cron_next(row["cron"], tz_name, cur)
            if cur is not None:
                yield cur
    elif kind == "repeatable":
        anchor, interval, repeat = anchor_of(row), row["interval"], row["repeat"]
        if anchor is None or not interval:
            return
        i = repeatable_index_after(anchor, interval, after)
        while repeat is None or i < repeat:
            yield repeatable_at(anchor, interval, i)
            i += 1
    elif kind == "once":
        at = row.get("at")
        if at is not None and at > after:
            yield at.astimezone(UTC)


@lru_cache(maxsize=8192)
def cron_next(expr: str, tz_name: str, after: datetime) -> datetime | None:
    """The first occurrence of cron `expr` in `tz_name` strictly after `after` (None: never).

    Same answer as schedules.cron_occurrences, faster: that one starts its wall-clock walk three
    hours early so that DST gaps and folds behind `after` are seen; when the zone's UTC offset did
    not change in those three hours there is nothing to see, and the walk starts at `after`.
    Cached: tasks that share a cron and a next run (every "0 3 * * *" task) share the work."""
    from croniter import CroniterBadDateError, croniter

    from scheduler_core.tasks.schedules import (
        cron_occurrences,
        prepare_cron,
        validate_cron,
        wall_to_instant,
        zone,
    )

    tz = zone(tz_name)
    last = after.astimezone(UTC)
    if (last - timedelta(hours=3)).astimezone(tz).utcoffset() != last.astimezone(tz).utcoffset():
        return next(cron_occurrences(expr, tz_name, last), None)
    validate_cron(expr)
    prepared, ors = prepare_cron(expr)
    it = croniter(prepared, last.astimezone(tz).replace(tzinfo=None), day_or=ors)
    while True:
        try:
            wall = it.get_next(datetime)
        except CroniterBadDateError:
            return None
        instant = wall_to_instant(wall, tz)
        if instant > last:
            return instant


def first_after(row: dict[str, Any], after: datetime, tz_name: str) -> datetime | None:
    return next(iter_after(row, after, tz_name), None)


def initial_next_run(row: dict[str, Any], now: datetime, grace: timedelta, tz_name: str) -> datetime | None:
    """Where a new or edited task starts: its first occurrence after `now - grace` (so the anchor
    run of a REPEATABLE created a moment ago is not lost), or None when it has none left."""
    return first_after(row, now - grace, tz_name)


def plan_task(
    row: dict[str, Any],
    *,
    now: datetime,
    horizon: datetime,
    grace: timedelta,
    tz_name: str,
    busy: bool = False,
    cap: int = MAX_PER_TASK,
) -> TaskPlan:
    """Plan one due task. `row` carries the schedule fields, misfire, overlap and next_run_at."""
    t0: datetime = row["next_run_at"]
    plan = TaskPlan()
    missed = t0 < now - grace
    if row.get("overlap") == "skip":
        if t0 > now:
            plan.deferred, plan.next_run_at = True, t0
            return plan
        wanted = not (missed and row.get("misfire") == "skip")
        if wanted and not busy:
            plan.jobs.append((t0, now if missed else t0))
        else:
            plan.skipped += 1
        plan.next_run_at = first_after(row, max(t0, now), tz_name)
        return plan
    if missed:
        if row.get("misfire") == "run_once":
            plan.jobs.append((t0, now))
        else:
            plan.skipped += 1
        occurrences = iter_after(row, now, tz_name)
    else:
        occurrences = _chain_first(t0, iter_after(row, t0, tz_name))
    for occ in occurrences:
        if occ > horizon or len(plan.jobs) >= cap:
            plan.next_run_at = occ
            break
        plan.jobs.append((occ, occ))
    return plan


def _chain_first(first: datetime, rest: Iterator[datetime]) -> Iterator[datetime]:
    yield first
    yield from rest
