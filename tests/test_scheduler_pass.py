"""One scheduler pass, stepped with an injected clock: planning into scheduled, promotion on time,
REPEATABLE `repeat`, ONCE, misfire and overlap policies, and the pass's wake-up time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scheduler_core.conf import reset_config
from scheduler_core.models import Task
from scheduler_core.queues.queue import get_queue
from scheduler_core.scheduler import Scheduler, run_once
from tests.scheduling import T0, ids_in, jobs_in, make_task, simulate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _long_interval(settings: Any, key_prefix: str) -> None:
    """A long SCHEDULER_INTERVAL, so simulated passes jump from one due time to the next."""
    settings.SCHEDULER = {**settings.SCHEDULER, "SCHEDULER_INTERVAL": 10**6}
    reset_config()


def _sid(task: Any, when: Any) -> str:
    return f"task-{task.pk}-{int(when.timestamp())}"


def test_repeatable_plans_the_lookahead_window_and_advances(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=30, at=T0)
    assert task.next_run_at == T0  # tasks_changed placed the first run
    r = run_once(now=T0 - timedelta(seconds=5))
    assert r.leader and r.tasks == 1 and r.planned == 2
    assert ids_in("scheduled") == [_sid(task, T0), _sid(task, T0 + timedelta(seconds=30))]
    task.refresh_from_db()
    assert task.next_run_at == T0 + timedelta(seconds=60)
    assert task.occurrences == 2 and task.pending_job_id == _sid(task, T0 + timedelta(seconds=30))
    assert r.wake_at == T0.timestamp()  # the next due job
    r = run_once(now=T0)
    assert r.promoted == 1 and ids_in("queued") == [_sid(task, T0)]
    assert jobs_in("queued")[0].occurrence == T0
    assert r.planned == 1  # T0+60 came into the window
    # a second pass at the same instant plans nothing new and duplicates nothing
    assert run_once(now=T0).planned == 0
    assert len(ids_in("scheduled")) + len(ids_in("queued")) == 3


def test_repeatable_with_repeat_stops_after_n_runs(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=100, repeat=3, at=T0)
    simulate(T0 - timedelta(seconds=1), T0 + timedelta(hours=2))
    assert sorted(ids_in("queued")) == sorted(_sid(task, T0 + timedelta(seconds=100 * i)) for i in range(3))
    task.refresh_from_db()
    assert task.next_run_at is None and task.occurrences == 3
    assert ids_in("scheduled") == []


def test_once_runs_once(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(django_capture_on_commit_callbacks, type="once", at=T0 + timedelta(hours=1))
    results = simulate(T0, T0 + timedelta(days=2))
    assert ids_in("queued") == [_sid(task, T0 + timedelta(hours=1))]
    assert jobs_in("queued")[0].enqueued_at == T0 + timedelta(hours=1)  # promoted at its time
    task.refresh_from_db()
    assert task.next_run_at is None
    assert len(results) < 10  # the loop sleeps from one due time to the next; it does not poll


def test_every_second_no_occurrence_skipped(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=1, at=T0)
    simulate(T0 - timedelta(seconds=1), T0 + timedelta(seconds=150))
    queued = jobs_in("queued")
    want = {_sid(task, T0 + timedelta(seconds=i)) for i in range(151)}
    assert {j.id for j in queued} == want and len(queued) == 151
    assert all(j.enqueued_at == j.occurrence for j in queued)  # each promoted exactly at its time


def test_misfire_skip_plans_only_the_future(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(
        django_capture_on_commit_callbacks, type="repeatable", interval=600, at=T0, misfire="skip"
    )
    now = T0 + timedelta(hours=5, seconds=30)  # down for five hours
    r = run_once(now=now)
    assert r.skipped == 1 and r.planned == 0 and ids_in("queued") == []
    task.refresh_from_db()
    assert task.next_run_at == T0 + timedelta(hours=5, minutes=10)


def test_misfire_run_once_catches_up_once_then_resumes(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(
        django_capture_on_commit_callbacks, type="repeatable", interval=600, at=T0, misfire="run_once"
    )
    now = T0 + timedelta(hours=5, minutes=9, seconds=30)
    r = run_once(now=now)
    assert r.planned == 2  # one catch-up, plus the next on-grid run within the look-ahead
    assert ids_in("queued") == [_sid(task, T0)]  # the catch-up runs now
    assert ids_in("scheduled") == [_sid(task, T0 + timedelta(hours=5, minutes=10))]  # the grid resumes
    task.refresh_from_db()
    assert task.next_run_at == T0 + timedelta(hours=5, minutes=20)


def test_short_delay_is_late_not_missed(django_capture_on_commit_callbacks: Any) -> None:
    """An occurrence a few seconds late (within the grace) is handed over, not skipped."""
    task = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=1, at=T0, misfire="skip")
    r = run_once(now=T0 + timedelta(seconds=3))
    assert r.skipped == 0
    assert sorted(ids_in("queued")) == sorted(_sid(task, T0 + timedelta(seconds=i)) for i in range(4))


def test_overlap_skip_waits_for_the_previous_run(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(
        django_capture_on_commit_callbacks, type="repeatable", interval=10, at=T0, overlap="skip"
    )
    r = run_once(now=T0 - timedelta(seconds=5))
    assert r.planned == 0 and r.wake_at == T0.timestamp()  # planned when due, not ahead
    assert run_once(now=T0).planned == 1
    assert ids_in("queued") == [_sid(task, T0)]
    # the T0 run is still queued at T0+10: that occurrence is skipped
    r = run_once(now=T0 + timedelta(seconds=10))
    assert r.skipped == 1 and ids_in("queued") == [_sid(task, T0)]
    task.refresh_from_db()
    assert task.next_run_at == T0 + timedelta(seconds=20)
    # once the previous run is gone, the next occurrence runs
    get_queue("default").delete(_sid(task, T0))
    assert run_once(now=T0 + timedelta(seconds=20)).planned == 1
    assert ids_in("queued") == [_sid(task, T0 + timedelta(seconds=20))]


def test_overlap_allow_plans_ahead_even_while_running(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=10, at=T0)
    run_once(now=T0)
    r = run_once(now=T0 + timedelta(seconds=10))
    assert r.promoted == 1
    assert ids_in("queued") == [_sid(task, T0), _sid(task, T0 + timedelta(seconds=10))]


def test_disabled_tasks_are_not_planned(django_capture_on_commit_callbacks: Any) -> None:
    make_task(django_capture_on_commit_callbacks, type="repeatable", interval=10, at=T0, enabled=False)
    assert run_once(now=T0).planned == 0
    assert ids_in("scheduled") == [] and ids_in("queued") == []


def test_wake_up_is_the_next_task_to_plan(django_capture_on_commit_callbacks: Any) -> None:
    make_task(django_capture_on_commit_callbacks, type="once", at=T0 + timedelta(hours=3))
    r = run_once(now=T0)
    assert r.planned == 0
    assert r.wake_at == (T0 + timedelta(hours=3) - timedelta(seconds=60)).timestamp()


def test_standby_does_nothing(django_capture_on_commit_callbacks: Any) -> None:
    make_task(django_capture_on_commit_callbacks, type="repeatable", interval=10, at=T0)
    leader, standby = Scheduler(), Scheduler()
    assert leader.run_once(now=T0).leader
    r = standby.run_once(now=T0)
    assert not r.leader and r.planned == 0
    assert r.wake_at - T0.timestamp() == pytest.approx(standby.leader.poll_interval)
    leader.leader.release()
    assert standby.run_once(now=T0).leader


def test_unknown_queue_task_is_skipped_not_fatal(django_capture_on_commit_callbacks: Any) -> None:
    good = make_task(django_capture_on_commit_callbacks, type="once", at=T0)
    bad = make_task(django_capture_on_commit_callbacks, type="once", at=T0, name="bad")
    Task.objects.filter(pk=bad.pk).update(queue="gone")
    r = run_once(now=T0)
    assert r.planned == 1 and ids_in("queued") == [_sid(good, T0)]
