"""Edits take effect now: replan.tasks_changed and the Task signals replace or remove pending
jobs after the commit; a save that changes nothing does nothing; a pass racing an edit loses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import get_config
from scheduler_core.models import Task
from scheduler_core.queues.queue import get_queue
from scheduler_core.scheduler import planner, run_once
from scheduler_core.tasks.actions import delete_task, set_enabled
from scheduler_core.tasks.replan import reconcile, tasks_changed
from scheduler_core.tasks.runs import record_run
from tests.scheduling import T0, committed, ids_in, jobs_in, make_task

pytestmark = pytest.mark.django_db


def _sid(task: Any, when: Any) -> str:
    return f"task-{task.pk}-{int(when.timestamp())}"


@pytest.fixture
def planned(django_capture_on_commit_callbacks: Any) -> Any:
    """A task every 20 s from T0, planned by a pass at T0 - 5 s (T0, T0+20, T0+40 scheduled)."""
    task = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=20, at=T0, name="edited")
    run_once(now=T0 - timedelta(seconds=5))
    assert len(ids_in("scheduled")) == 3
    return task


def test_edit_replaces_the_pending_jobs(planned: Any, django_capture_on_commit_callbacks: Any) -> None:
    task = planned
    task.interval, task.kwargs = 30, {"x": 1}
    with committed(django_capture_on_commit_callbacks):
        task.save()
    assert ids_in("scheduled") == []  # the old spec's jobs are gone at once
    task.refresh_from_db()
    assert task.next_run_at == T0
    run_once(now=T0 - timedelta(seconds=4))
    assert ids_in("scheduled") == [_sid(task, T0), _sid(task, T0 + timedelta(seconds=30))]
    assert all(j.kwargs == {"x": 1} for j in jobs_in("scheduled"))


def test_edit_leaves_queued_and_running_jobs_alone(
    planned: Any, django_capture_on_commit_callbacks: Any
) -> None:
    task = planned
    run_once(now=T0)  # T0 is now queued
    task.kwargs = {"y": 2}
    with committed(django_capture_on_commit_callbacks):
        task.save()
    assert ids_in("queued") == [_sid(task, T0)]
    assert ids_in("scheduled") == []


def test_disable_removes_and_enable_replans(planned: Any, django_capture_on_commit_callbacks: Any) -> None:
    task = planned
    with committed(django_capture_on_commit_callbacks):
        set_enabled("edited", False)
    assert ids_in("scheduled") == []
    task.refresh_from_db()
    assert task.next_run_at is None
    assert run_once(now=T0 - timedelta(seconds=3)).planned == 0
    with committed(django_capture_on_commit_callbacks):
        set_enabled("edited", True)
    run_once(now=T0 - timedelta(seconds=2))
    assert len(ids_in("scheduled")) == 3


def test_delete_removes_pending_jobs(planned: Any, django_capture_on_commit_callbacks: Any) -> None:
    with committed(django_capture_on_commit_callbacks):
        delete_task("edited")  # a post_delete signal and an explicit call: both harmless
    assert ids_in("scheduled") == []


def test_orm_delete_removes_pending_jobs(planned: Any, django_capture_on_commit_callbacks: Any) -> None:
    with committed(django_capture_on_commit_callbacks):
        planned.delete()
    assert ids_in("scheduled") == []


def test_unchanged_save_does_nothing(planned: Any, django_capture_on_commit_callbacks: Any) -> None:
    task = planned
    task.refresh_from_db()
    before_ids, before_next = ids_in("scheduled"), task.next_run_at
    created = [j.created_at for j in jobs_in("scheduled")]
    with committed(django_capture_on_commit_callbacks):
        task.description = task.description  # nothing changes
        task.save()
    assert ids_in("scheduled") == before_ids
    assert [j.created_at for j in jobs_in("scheduled")] == created  # not re-created either
    task.refresh_from_db()
    assert task.next_run_at == before_next
    assert get_queue("default").count("scheduled") == 3


def test_signal_and_explicit_call_do_the_work_once(
    planned: Any, django_capture_on_commit_callbacks: Any
) -> None:
    task = planned
    task.interval = 25
    with committed(django_capture_on_commit_callbacks):
        task.save()
    # the manifest apply calls tasks_changed itself after its writes: here that is a no-op
    assert reconcile({task.pk}, set()) == 0
    tasks_changed([task.pk])
    task.refresh_from_db()
    assert task.next_run_at == T0


def test_status_only_save_does_nothing(planned: Any, django_capture_on_commit_callbacks: Any) -> None:
    task = planned
    task.last_status = "finished"
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        task.save(update_fields=["last_status"])
    assert hooks == []
    assert len(ids_in("scheduled")) == 3


def test_edit_during_a_pass_wins(django_capture_on_commit_callbacks: Any, monkeypatch: Any) -> None:
    """A pass that read a task before an edit committed: its update does not take, and the jobs
    it planned for the old spec are taken back."""
    task = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=20, at=T0, name="racy")
    real = planner.due_rows

    def read_then_edit(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)
        t = Task.objects.get(pk=task.pk)
        t.kwargs = {"new": True}
        with committed(django_capture_on_commit_callbacks):
            t.save()
        return rows

    monkeypatch.setattr(planner, "due_rows", read_then_edit)
    r = run_once(now=T0 - timedelta(seconds=5))
    monkeypatch.setattr(planner, "due_rows", real)
    assert r.planned == 3
    assert ids_in("scheduled") == []  # taken back
    task.refresh_from_db()
    assert task.next_run_at == T0 and task.kwargs == {"new": True}
    run_once(now=T0 - timedelta(seconds=4))
    assert len(ids_in("scheduled")) == 3 and all(j.kwargs == {"new": True} for j in jobs_in("scheduled"))


def test_new_task_wakes_the_scheduler(django_capture_on_commit_callbacks: Any, redis_client: Any) -> None:
    p = redis_client.pubsub(ignore_subscribe_messages=True)
    p.subscribe(GlobalKeys(get_config().key_prefix).scheduler_wake)
    p.get_message(timeout=1)
    make_task(django_capture_on_commit_callbacks, type="once", at=T0)
    msg = p.get_message(timeout=2)
    p.close()
    assert msg is not None and msg["data"] == b"1"


def test_record_run_counts_and_keeps_the_latest(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(django_capture_on_commit_callbacks, type="repeatable", interval=20, at=T0)
    record_run(task.pk, T0 + timedelta(seconds=20), "finished", T0 + timedelta(seconds=21))
    record_run(task.pk, T0, "failed", T0 + timedelta(seconds=30))  # an older run ending late
    task.refresh_from_db()
    assert (task.run_count, task.success_count, task.failure_count) == (2, 1, 1)
    assert task.last_run_at == T0 + timedelta(seconds=20) and task.last_status == "finished"
