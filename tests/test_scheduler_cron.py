"""Cron tasks through real passes on an injected clock, across DST changes in two zones: each
occurrence is planned once, from the task's own grid, and queued at its planned instant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scheduler_core.conf import reset_config
from scheduler_core.scheduler import run_once
from tests.scheduling import jobs_in, make_task, simulate, utc

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _long_interval(settings: Any, key_prefix: str) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "SCHEDULER_INTERVAL": 10**6}
    reset_config()


def _run(capture: Any, cron: str, tz: str, start: Any, end: Any) -> list[Any]:
    task = make_task(capture, now=start, type="cron", cron=cron, timezone=tz, name=f"{tz}-{cron}")
    simulate(start, end)
    jobs = sorted(jobs_in("queued"), key=lambda j: j.occurrence)
    assert all(j.enqueued_at == j.occurrence for j in jobs)  # queued exactly at the planned instant
    assert all(j.id == f"task-{task.pk}-{int(j.occurrence.timestamp())}" for j in jobs)
    return [j.occurrence for j in jobs]


def test_berlin_spring_forward_runs_once_after_the_gap(django_capture_on_commit_callbacks: Any) -> None:
    got = _run(django_capture_on_commit_callbacks, "30 2 * * *", "Europe/Berlin",
               utc(2030, 3, 29), utc(2030, 4, 1, 12))  # fmt: skip
    assert got == [
        utc(2030, 3, 29, 1, 30),  # 02:30 CET
        utc(2030, 3, 30, 1, 30),
        utc(2030, 3, 31, 1, 0),  # 02:30 does not exist: 03:00 CEST
        utc(2030, 4, 1, 0, 30),  # 02:30 CEST
    ]


def test_berlin_fall_back_runs_once(django_capture_on_commit_callbacks: Any) -> None:
    got = _run(django_capture_on_commit_callbacks, "30 2 * * *", "Europe/Berlin",
               utc(2030, 10, 26), utc(2030, 10, 28, 12))  # fmt: skip
    assert got == [utc(2030, 10, 26, 0, 30), utc(2030, 10, 27, 0, 30), utc(2030, 10, 28, 1, 30)]


def test_new_york_fall_back_runs_once(django_capture_on_commit_callbacks: Any) -> None:
    got = _run(django_capture_on_commit_callbacks, "30 1 * * *", "America/New_York",
               utc(2030, 11, 2), utc(2030, 11, 4, 12))  # fmt: skip
    assert got == [utc(2030, 11, 2, 5, 30), utc(2030, 11, 3, 5, 30), utc(2030, 11, 4, 6, 30)]


def test_new_york_spring_forward_hourly(django_capture_on_commit_callbacks: Any) -> None:
    got = _run(django_capture_on_commit_callbacks, "15 * * * *", "America/New_York",
               utc(2030, 3, 10, 5), utc(2030, 3, 10, 8, 30))  # fmt: skip
    # 00:15 EST, 01:15 EST, 02:15 does not exist: once at 03:00 EDT, then 03:15 and 04:15 EDT
    assert got == [utc(2030, 3, 10, 5, 15), utc(2030, 3, 10, 6, 15), utc(2030, 3, 10, 7, 0),
                   utc(2030, 3, 10, 7, 15), utc(2030, 3, 10, 8, 15)]  # fmt: skip


def test_cron_keeps_its_grid_after_downtime(django_capture_on_commit_callbacks: Any) -> None:
    """After a misfire the next run is on the cron's grid, not `now + period`."""
    start = utc(2030, 5, 1)
    task = make_task(django_capture_on_commit_callbacks, now=start, type="cron", cron="*/15 * * * *",
                     timezone="UTC", misfire="skip", name="grid")  # fmt: skip
    r = run_once(now=start + timedelta(hours=2, minutes=7, seconds=10))
    assert r.skipped == 1 and r.planned == 0
    task.refresh_from_db()
    assert task.next_run_at == utc(2030, 5, 1, 2, 15)
    run_once(now=utc(2030, 5, 1, 2, 14, 30))
    task.refresh_from_db()
    assert task.next_run_at == utc(2030, 5, 1, 2, 30)
