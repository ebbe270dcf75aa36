"""`tasks next` and `tasks run`: a task's coming occurrences (with DST shifts marked), and one run
enqueued now outside the schedule."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler_core.errors import InvalidInput

MAX_COUNT = 1000


def _task(name: str) -> Any:
    from scheduler_core.tasks.lookup import find_task

    return find_task(name)


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def upcoming(name: str, count: int = 5, *, now: datetime | None = None) -> dict[str, Any]:
    """The next `count` occurrences of task `name` after `now`: local time in the task's zone, UTC,
    the UTC offset, and a note where the offset differs from the previous occurrence (DST)."""
    from scheduler_core.tasks.schedules import zone

    if count < 1 or count > MAX_COUNT:
        raise InvalidInput(f"--count must be between 1 and {MAX_COUNT}, not {count}")
    task = _task(name)
    t = now or datetime.now(UTC)
    tz_name = task.effective_timezone()
    tz = zone(tz_name)
    rows: list[dict[str, Any]] = []
    previous = t.astimezone(tz).utcoffset()
    for i, occ in enumerate(task.next_occurrences(after=t, count=count), start=1):
        local = occ.astimezone(tz)
        off = local.utcoffset()
        note = ""
        if off != previous:
            note = f"UTC offset {_offset(previous)} -> {_offset(off)}"
            if local.dst() is not None:
                note += " (DST starts)" if local.dst() else " (DST ends)"
        rows.append({"n": i, "local": local.replace(tzinfo=None).isoformat(sep=" "), "offset": _offset(off),
                     "utc": occ.astimezone(UTC), "note": note})  # fmt: skip
        previous = off
    return {"name": task.name, "timezone": tz_name, "enabled": task.enabled, "occurrences": rows}


def run_now(name: str) -> Any:
    """Enqueue one run of task `name` now, outside its schedule (its next planned runs stay)."""
    from scheduler_core.jobs.record import Retry
    from scheduler_core.queues.queue import JobCall, get_queue

    task = _task(name)
    retry = Retry(task.retry_max, tuple(task.retry_backoff or (0,))) if task.retry_max else None
    call = JobCall(
        func=task.callable, args=task.args or (), kwargs=task.kwargs or {},
        job_id=f"task-{task.pk}-run-{os.urandom(6).hex()}", timeout=task.timeout,
        result_ttl=task.result_ttl, failure_ttl=task.failure_ttl, at_front=task.at_front, retry=retry,
        on_success=task.on_success, on_failure=task.on_failure, on_stopped=task.on_stopped, task_id=task.pk,
    )  # fmt: skip
    return get_queue(task.queue).enqueue_call(call, on_commit=False)  # an operator action: now
