"""Helpers for the scheduler tests: tasks made through the ORM (signals fire), passes stepped on
an injected clock, and the jobs a queue holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler_core.models import Task
from scheduler_core.queues.queue import get_queue
from scheduler_core.scheduler import run_once
from scheduler_core.tasks.replan import tasks_changed

T0 = datetime(2030, 1, 7, 12, 0, 0, tzinfo=UTC)  # a Monday, far enough ahead of the real clock


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc,arg-type]


@contextmanager
def committed(capture: Any) -> Iterator[None]:
    """Run the block and then its on_commit hooks (pytest-django wraps each test in a transaction)."""
    with capture(execute=True):
        yield


def make_task(capture: Any, now: datetime | None = None, **fields: Any) -> Any:
    """Create a task; its commit hooks run (tasks_changed at the real time), or, with `now`,
    tasks_changed runs at that injected time instead."""
    fields.setdefault("name", f"t-{fields.get('type', 'x')}-{len(fields)}-{id(fields)}")
    fields.setdefault("callable", "tests.jobs.noop")
    with capture(execute=now is None):
        task = Task.objects.create(**fields)
    if now is not None:
        tasks_changed([task.pk], now=now)
    task.refresh_from_db()
    return task


def jobs_in(registry: str, queue: str = "default") -> list[Any]:
    q = get_queue(queue)
    return q.jobs(registry, limit=10_000)


def ids_in(registry: str, queue: str = "default") -> list[str]:
    return [j.id for j in jobs_in(registry, queue)]


def simulate(start: datetime, end: datetime, *, max_passes: int = 10_000) -> list[Any]:
    """Step passes from `start` to `end`, each at the wake-up time the previous one asked for.
    Returns the pass results."""
    now, results = start, []
    for _ in range(max_passes):
        if now > end:
            break
        r = run_once(now=now)
        results.append(r)
        nxt = datetime.fromtimestamp(r.wake_at, UTC)
        now = max(nxt, now + timedelta(microseconds=1))
    return results
