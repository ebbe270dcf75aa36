"""Occurrences planned before a downtime and missed during it follow the task's misfire policy,
whoever comes back first (the scheduler, or a worker's heartbeat promotion)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler_core.conf import reset_config
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.scheduler import missed, run_once
from tests.scheduling import T0, ids_in, make_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _long_interval(settings: Any, key_prefix: str) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "SCHEDULER_INTERVAL": 10**6, "SCHEDULER_LOCK_TTL": 5}
    reset_config()


def _sid(task: Any, seconds: int) -> str:
    return f"task-{task.pk}-{int((T0 + timedelta(seconds=seconds)).timestamp())}"


def _planned_then_down(capture: Any, misfire: str) -> Any:
    """A task every 10 s; a pass 5 s before T0 plans T0 .. T0+50 (the 60 s look-ahead), then
    everything stops."""
    task = make_task(capture, type="repeatable", interval=10, at=T0, misfire=misfire)
    run_once(now=T0 - timedelta(seconds=5))
    assert ids_in("scheduled") == [_sid(task, s) for s in range(0, 60, 10)]
    return task


def test_skip_drops_what_was_missed(django_capture_on_commit_callbacks: Any) -> None:
    task = _planned_then_down(django_capture_on_commit_callbacks, "skip")
    run_once(now=T0 + timedelta(minutes=5))
    assert ids_in("queued") == []  # none of the six planned-then-missed runs
    assert all(
        int(i.rsplit("-", 1)[1]) > (T0 + timedelta(minutes=5)).timestamp() for i in ids_in("scheduled")
    )
    assert task.pk


def test_run_once_after_a_long_downtime_runs_once(django_capture_on_commit_callbacks: Any) -> None:
    _planned_then_down(django_capture_on_commit_callbacks, "run_once")
    run_once(now=T0 + timedelta(minutes=5))
    assert len(ids_in("queued")) == 1  # the planner's one catch-up; the planned ones are dropped


def test_run_once_after_a_short_downtime_keeps_the_latest_missed(
    django_capture_on_commit_callbacks: Any,
) -> None:
    task = _planned_then_down(django_capture_on_commit_callbacks, "run_once")
    run_once(now=T0 + timedelta(seconds=30))  # T0 and T0+10 missed (grace 10 s); T0+20 is late, on time
    assert ids_in("queued") == [_sid(task, 10), _sid(task, 20), _sid(task, 30)]
    assert ids_in("scheduled")[:2] == [_sid(task, 40), _sid(task, 50)]


def test_a_worker_leaves_missed_occurrences_to_the_scheduler(django_capture_on_commit_callbacks: Any) -> None:
    task = _planned_then_down(django_capture_on_commit_callbacks, "skip")
    q = get_queue("default")
    adhoc = q.enqueue_call(JobCall("tests.jobs.noop", at=T0), now=(T0 - timedelta(seconds=5)).timestamp())
    now = (T0 + timedelta(minutes=5)).timestamp()
    assert q.promote_due(now=now, hold_tasks_before=now - 10) == 1
    assert ids_in("queued") == [adhoc.id]  # an ad-hoc job is the worker's to move
    assert ids_in("scheduled") == [_sid(task, s) for s in range(0, 60, 10)]


def test_held_occurrences_never_block_the_jobs_behind_them(django_capture_on_commit_callbacks: Any) -> None:
    """Held entries are the oldest of `scheduled`: with more of them than one batch, a worker still
    moves the due jobs behind them (before and after the hold time), and keeps the held ones."""
    task = _planned_then_down(django_capture_on_commit_callbacks, "skip")
    q = get_queue("default")
    before = (T0 - timedelta(seconds=5)).timestamp()
    late = q.enqueue_call(JobCall("tests.jobs.noop", at=T0 + timedelta(seconds=55)), now=before)
    now = (T0 + timedelta(minutes=5)).timestamp()
    recent = q.enqueue_call(JobCall("tests.jobs.noop", at=now - 1), now=before)
    assert q.promote_due(now=now, limit=2, hold_tasks_before=now - 10) == 2
    assert ids_in("queued") == [late.id, recent.id]
    assert ids_in("scheduled") == [_sid(task, s) for s in range(0, 60, 10)]
    assert q.promote_due(now=now) == 6  # the scheduler (no hold) moves them once it has decided


def test_a_steady_scheduler_does_not_look_for_missed_occurrences(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idle passes SCHEDULER_INTERVAL apart (longer than the grace) are on time: only a pass later
    than planned by more than the grace (downtime, a new leader) looks for missed occurrences."""
    settings.SCHEDULER = {**settings.SCHEDULER, "SCHEDULER_INTERVAL": 30}
    reset_config()
    calls: list[Any] = []
    real = missed.drop_missed

    def counting(*args: Any) -> int:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(missed, "drop_missed", counting)
    first = run_once(now=T0)
    assert len(calls) == 1  # a new leader looks once
    second = run_once(now=datetime_of(first.wake_at))
    run_once(now=datetime_of(second.wake_at + 1))
    assert len(calls) == 1
    run_once(now=datetime_of(second.wake_at + 3600))  # an hour late: downtime
    assert len(calls) == 2


def datetime_of(ts: float) -> Any:
    return datetime.fromtimestamp(ts, UTC)
