"""The database is the source of truth: when the broker loses its data, the next pass refills it
from the DB, with no duplicate of a job that survived and no re-run of an occurrence that ran."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scheduler_core.models import Task
from scheduler_core.scheduler import run_once
from scheduler_core.tasks.runs import record_run
from tests.conftest import _drop_keys
from tests.scheduling import T0, ids_in, make_task

pytestmark = pytest.mark.django_db


def _lose_broker(prefix: str) -> None:
    """What FLUSHDB does to this test's keys (the test Redis DB is shared by parallel tests)."""
    _drop_keys(prefix)


def _sid(task: Any, when: Any) -> str:
    return f"task-{task.pk}-{int(when.timestamp())}"


def test_flushed_broker_is_refilled_without_duplicates(
    key_prefix: str, django_capture_on_commit_callbacks: Any
) -> None:
    a = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=20, at=T0, name="a")
    b = make_task(django_capture_on_commit_callbacks, type="cron", cron="* * * * *", timezone="UTC", name="b",
                  now=T0 - timedelta(seconds=30))  # fmt: skip
    run_once(now=T0 - timedelta(seconds=10))
    before = sorted(ids_in("scheduled"))
    want = [_sid(a, T0 + timedelta(seconds=s)) for s in (0, 20, 40)] + [_sid(b, T0)]
    assert before == sorted(want)
    _lose_broker(key_prefix)
    assert ids_in("scheduled") == []
    r = run_once(now=T0 - timedelta(seconds=9))
    assert r.recovered == 4
    assert sorted(ids_in("scheduled")) == before
    # the marker is back: the next pass does not re-plan, and nothing is duplicated
    assert run_once(now=T0 - timedelta(seconds=8)).recovered == 0
    assert sorted(ids_in("scheduled")) == before


def test_refill_skips_occurrences_that_ran(key_prefix: str, django_capture_on_commit_callbacks: Any) -> None:
    a = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=5, at=T0, name="a")
    run_once(now=T0)  # T0 queued; T0+5 ... T0+60 scheduled
    run_once(now=T0 + timedelta(seconds=5))
    record_run(a.pk, T0, "finished", T0 + timedelta(seconds=1))
    record_run(a.pk, T0 + timedelta(seconds=5), "finished", T0 + timedelta(seconds=6))
    _lose_broker(key_prefix)
    run_once(now=T0 + timedelta(seconds=7))
    ids = ids_in("scheduled") + ids_in("queued")
    assert _sid(a, T0) not in ids and _sid(a, T0 + timedelta(seconds=5)) not in ids
    assert _sid(a, T0 + timedelta(seconds=10)) in ids and len(ids) == len(set(ids))


def test_refill_requeues_a_lost_queued_job(key_prefix: str, django_capture_on_commit_callbacks: Any) -> None:
    """A job that was queued (not yet run) when the broker lost it is queued again."""
    a = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=60, at=T0, name="a")
    run_once(now=T0)
    assert ids_in("queued") == [_sid(a, T0)]
    _lose_broker(key_prefix)
    run_once(now=T0 + timedelta(seconds=2))
    assert ids_in("queued") == [_sid(a, T0)]


def test_never_planned_tasks_are_planned_on_a_new_broker(django_capture_on_commit_callbacks: Any) -> None:
    """A task written without tasks_changed (bulk_create) is picked up when the broker is new."""
    Task.objects.bulk_create([Task(name="bulk", type="once", callable="tests.jobs.noop", at=T0)])
    run_once(now=T0 - timedelta(seconds=30))
    task = Task.objects.get(name="bulk")
    assert task.next_run_at == T0 or task.next_run_at is None
    run_once(now=T0 - timedelta(seconds=29))
    assert ids_in("scheduled") == [_sid(task, T0)]


def test_refill_a_fully_planned_repeat(key_prefix: str, django_capture_on_commit_callbacks: Any) -> None:
    """A REPEATABLE whose every run is already planned (next_run_at empty) is refilled too."""
    a = make_task(
        django_capture_on_commit_callbacks, type="repeatable", interval=5, repeat=4, at=T0, name="a"
    )
    run_once(now=T0 - timedelta(seconds=1))
    a.refresh_from_db()
    assert a.next_run_at is None and len(ids_in("scheduled")) == 4
    _lose_broker(key_prefix)
    assert run_once(now=T0).recovered == 4
    assert sorted(ids_in("scheduled") + ids_in("queued")) == sorted(_sid(a, T0 + timedelta(seconds=5 * i))
                                                                    for i in range(4))  # fmt: skip
