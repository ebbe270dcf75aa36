"""Item 3: rows changed past the ORM's signals (`QuerySet.update`, delete without signals) never
get their planned job promoted after the next pass."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from scheduler_core.conf import reset_config
from scheduler_core.models import Task
from scheduler_core.scheduler import run_once
from tests.scheduling import T0, ids_in, make_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _long_interval(settings: Any, key_prefix: str) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "SCHEDULER_INTERVAL": 10**6}
    reset_config()


def _planned(capture: Any) -> Any:
    task = make_task(capture, type="repeatable", interval=30, at=T0)
    run_once(now=T0 - timedelta(seconds=5))
    assert f"task-{task.pk}-{int(T0.timestamp())}" in ids_in("scheduled")
    return task


@pytest.mark.parametrize(
    "change",
    [
        {"enabled": False},
        {"callable": "tests.jobs.add"},
        {"args": [1, 2]},
        {"queue": "high"},
        {"at": T0 + timedelta(seconds=10)},
        {"type": "cron", "cron": "1 * * * *", "interval": None, "at": None},
    ],
)
def test_update_past_the_signals_is_never_promoted(
    django_capture_on_commit_callbacks: Any, change: Any
) -> None:
    task = _planned(django_capture_on_commit_callbacks)
    Task.objects.filter(pk=task.pk).update(**change)  # no save(), no signal
    run_once(now=T0)
    stale = f"task-{task.pk}-{int(T0.timestamp())}"
    assert stale not in ids_in("queued") and stale not in ids_in("scheduled")


def test_raw_delete_is_never_promoted(django_capture_on_commit_callbacks: Any) -> None:
    task = _planned(django_capture_on_commit_callbacks)
    with connection.cursor() as c:  # past the ORM: no post_delete
        c.execute(f"DELETE FROM {Task._meta.db_table} WHERE id = %s", [task.pk])
    run_once(now=T0)
    assert ids_in("queued") == []


def test_unchanged_task_is_promoted(django_capture_on_commit_callbacks: Any) -> None:
    task = _planned(django_capture_on_commit_callbacks)
    run_once(now=T0)
    assert ids_in("queued") == [f"task-{task.pk}-{int(T0.timestamp())}"]
