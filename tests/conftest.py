"""Shared fixtures: a real Redis (TASKCTL_TEST_REDIS_URL) with a key prefix of each test's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

import scheduler_core.inspect
from scheduler_core.conf import reset_config
from scheduler_core.models import Task, TaskSet, TaskType
from tests.cli import NOW
from tests.processes import WorkerProc

REDIS_URL = os.environ.get("TASKCTL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


# Suites that run only when their marker is asked for (-m NAME), each by a CI step of its own.
OPT_IN = {
    "chaos": "the chaos suite runs only with -m chaos (.ci/steps/30-chaos.sh)",
    "partition": "partition tests run only with -m partition (.ci/steps/45-partition.sh)",
    "browser": "browser test: run with -m browser (.ci/steps/50-browser.sh)",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expr = str(config.getoption("markexpr", "") or "")
    for marker, reason in OPT_IN.items():
        if marker in expr and f"not {marker}" not in expr:
            continue
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if item.get_closest_marker(marker) is not None:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def key_prefix(settings: pytest.FixtureRequest) -> Iterator[str]:
    """Every test gets its own KEY_PREFIX, so tests can run in parallel on one Redis DB."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    conf = dict(settings.SCHEDULER)  # type: ignore[attr-defined]
    conf["KEY_PREFIX"] = prefix
    conf["BROKER_URL"] = REDIS_URL
    settings.SCHEDULER = conf  # type: ignore[attr-defined]
    reset_config()
    yield prefix
    reset_config()
    _drop_keys(prefix)


def _drop_keys(prefix: str) -> None:
    r = redis.Redis.from_url(REDIS_URL)
    try:
        batch = list(r.scan_iter(match=f"{prefix}:*", count=1000))
        for i in range(0, len(batch), 500):
            r.delete(*batch[i : i + 500])
    finally:
        r.close()


@pytest.fixture
def redis_client() -> Iterator[object]:
    r = redis.Redis.from_url(REDIS_URL)
    yield r
    r.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(scheduler_core.inspect, "clock", lambda: NOW)
    return NOW


@pytest.fixture
def worker(key_prefix: str, tmp_path: Path) -> Iterator[WorkerProc]:
    w = WorkerProc(key_prefix, tmp_path)
    yield w
    w.stop_all()


TASKS_T0 = datetime(2026, 9, 1, 12, tzinfo=UTC)  # the `tasks` fixture's anchor and bookkeeping time


@pytest.fixture
def tasks() -> dict[str, Task]:
    """Three tasks (cron in a set, repeatable, disabled once) with fixed status, for CLI goldens."""
    billing = TaskSet.objects.create(name="billing")
    made = [
        Task(name="nightly-report", type=TaskType.CRON, callable="tests.jobs.noop", cron="0 3 * * *",
             timezone="Europe/Berlin", task_set=billing, kwargs={"to": ["ops@example.com"]}),
        Task(name="poll-feed", type=TaskType.REPEATABLE, callable="tests.jobs.noop", interval=900, repeat=10,
             queue="high", at=TASKS_T0),
        Task(name="migrate-once", type=TaskType.ONCE, callable="tests.jobs.add", args=[1, 2],
             at=datetime(2026, 12, 24, 17, tzinfo=UTC), enabled=False, description="one-off data fix"),
    ]  # fmt: skip
    for t in made:
        t.full_clean()
        t.save()
    # Status as a scheduler would have left it; fixed bookkeeping times for stable output.
    Task.objects.filter(name="nightly-report").update(
        next_run_at=datetime(2026, 9, 22, 1, tzinfo=UTC),
        last_run_at=datetime(2026, 9, 21, 1, tzinfo=UTC),
        last_status="finished",
        run_count=20,
        success_count=20,
    )
    Task.objects.filter(name="poll-feed").update(
        next_run_at=datetime(2026, 9, 21, 14, 15, tzinfo=UTC),
        last_run_at=datetime(2026, 9, 21, 14, tzinfo=UTC),
        last_status="failed",
        run_count=3,
        success_count=2,
        failure_count=1,
        pending_job_id="poll-feed@1790000100",
    )
    Task.objects.update(created_at=TASKS_T0, updated_at=TASKS_T0)
    return {t.name: t for t in Task.objects.all()}
