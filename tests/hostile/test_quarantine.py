"""Item 1: one bad Task row (written past validation) is quarantined with its reason; every
healthy task is planned on time. Stepped with an injected clock on the real broker and DB."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from scheduler_core.conf import reset_config
from scheduler_core.inspect import task_detail, task_rows
from scheduler_core.models import Task
from scheduler_core.scheduler import run_once
from tests.scheduling import T0, jobs_in, simulate

pytestmark = pytest.mark.django_db

BAD_ROWS: list[tuple[dict[str, Any], str]] = [  # 10 rows of 5 kinds: (fields, what the reason names)
    ({"callable": "os.system"}, "not allowed"),
    ({"callable": "tests.hostile.myjobs.os.system"}, "not allowed"),
    ({"callable": "tests.hostile.no_such_module.f"}, "no_such_module"),
    ({"callable": "tests.hostile.gone.f"}, "gone"),
    ({"callable": "tests.jobs.no_such_function"}, "no attribute"),
    ({"callable": "tests.jobs.noop", "on_failure": "tests.jobs.nope"}, "on_failure"),
    ({"type": "cron", "cron": "61 * * * *", "interval": None}, "invalid cron"),
    ({"type": "cron", "cron": "0 3 * * *", "timezone": "Mars/Olympus", "interval": None}, "Mars/Olympus"),
    ({"queue": "nope"}, "unknown queue"),
    ({"queue": "also-nope"}, "unknown queue"),
]


@pytest.fixture(autouse=True)
def _settings(settings: Any, key_prefix: str) -> None:
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "SCHEDULER_INTERVAL": 10**6,
        "ALLOWED_CALLABLES": ["tests.jobs", "tests.hostile"],
    }
    reset_config()


def _rows(healthy: int) -> tuple[list[Any], list[Any]]:
    base = {"type": "repeatable", "interval": 5, "at": T0, "next_run_at": T0, "callable": "tests.jobs.noop"}
    good = [Task(name=f"ok-{i}", **base) for i in range(healthy)]
    bad = [Task(name=f"bad-{i}", **{**base, **fields}) for i, (fields, _) in enumerate(BAD_ROWS)]
    for t in good + bad:
        t.spec_hash = t.compute_spec_hash()
    Task.objects.bulk_create(good + bad)  # past validation, as a data migration would
    rows = Task.objects.order_by("pk")
    return list(rows.filter(name__startswith="ok-")), list(rows.filter(name__startswith="bad-"))


def test_thousand_tasks_ten_bad_rows_every_healthy_task_on_time(caplog: Any) -> None:
    good, bad = _rows(990)
    caplog.set_level(logging.INFO, logger="taskctl.scheduler")
    simulate(T0 - timedelta(seconds=1), T0 + timedelta(seconds=20))
    queued = jobs_in("queued")
    by_task: dict[int, list[Any]] = {}
    for j in queued:
        by_task.setdefault(j.task_id, []).append(j)
    for t in good:
        runs = sorted(by_task.get(t.pk, []), key=lambda j: j.occurrence)
        assert [j.occurrence for j in runs] == [T0 + timedelta(seconds=5 * i) for i in range(5)], t.name
        assert all(j.enqueued_at == j.occurrence for j in runs)  # promoted on time
    for t, (_, needle) in zip(bad, BAD_ROWS, strict=True):
        t.refresh_from_db()
        assert t.last_status == "invalid" and needle in t.invalid_reason, (t.name, t.invalid_reason)
        assert t.pk not in by_task
    lines = [r for r in caplog.records if "quarantined" in r.getMessage()]
    assert len(lines) == len(BAD_ROWS)  # once per change, not once per pass
    assert Task.objects.filter(last_status="invalid").count() == len(BAD_ROWS)


def test_a_quarantined_row_comes_back_when_fixed() -> None:
    _, bad = _rows(1)
    run_once(now=T0 - timedelta(seconds=1))
    row = next(t for t in bad if t.callable == "tests.jobs.no_such_function")
    Task.objects.filter(pk=row.pk).update(callable="tests.jobs.noop")
    run_once(now=T0)
    row.refresh_from_db()
    assert row.invalid_reason == "" and row.last_status == ""
    assert any(j.task_id == row.pk for j in jobs_in("queued"))


def test_tasks_show_and_list_give_the_reason() -> None:
    _, bad = _rows(0)
    run_once(now=T0)
    shown = task_detail(bad[0].name)
    assert shown["status"]["last_status"] == "invalid"
    assert "not allowed" in shown["status"]["invalid_reason"]
    listed = {r["name"]: r for r in task_rows()}
    assert listed[bad[0].name]["last_status"] == "invalid"
    assert "not allowed" in listed[bad[0].name]["invalid_reason"]
