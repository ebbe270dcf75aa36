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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scheduler_core.tasks.row import first_after, iter_after

if TYPE_CHECKING:
    from scheduler_core.tasks.row import TaskRow

MAX_PER_TASK = 500  # occurrences one task hands over in one pass (a 1 s task, 60 s look-ahead: 61)


@dataclass
class TaskPlan:
    """The outcome for one task: jobs to enqueue as (occurrence, due) and the new next_run_at."""

    jobs: list[tuple[datetime, datetime]] = field(default_factory=list)
    next_run_at: datetime | None = None
    skipped: int = 0  # occurrences skipped (misfire skip, overlap skip)
    deferred: bool = False  # overlap skip, not due yet: nothing changes this pass


def plan_task(
    row: TaskRow,
    *,
    now: datetime,
    horizon: datetime,
    grace: timedelta,
    tz_name: str,
    busy: bool = False,
    cap: int = MAX_PER_TASK,
) -> TaskPlan:
    """Plan one due task. `row` carries the schedule fields, misfire, overlap and next_run_at."""
    t0 = row["next_run_at"]
    plan = TaskPlan()
    if t0 is None:  # no occurrence left: nothing to plan
        return plan
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
