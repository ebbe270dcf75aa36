"""Task counters survive a database outage: a run the database refuses is kept on the broker and
the next scheduler pass records it, so run_count equals the runs.

The outage is injected at the database driver boundary (an execute wrapper raising Django's
OperationalError, as a refused connection does); tests/chaos/ refuses real PostgreSQL connections."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection

from scheduler_core.broker.connection import get_client
from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import get_config
from scheduler_core.errors import DatabaseUnavailable
from scheduler_core.scheduler.loop import Scheduler
from scheduler_core.tasks.runs import apply_deferred, record_or_defer
from tests.scheduling import make_task

pytestmark = pytest.mark.django_db(transaction=True)  # a failed statement must not poison a test transaction
T = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)


@contextlib.contextmanager
def database_refuses() -> Iterator[None]:
    def refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise OperationalError("connection refused (injected outage)")

    with connection.execute_wrapper(refuse):
        yield


def test_runs_refused_by_the_database_are_recorded_by_the_next_pass(
    django_capture_on_commit_callbacks: Any,
) -> None:
    task = make_task(django_capture_on_commit_callbacks, now=T, type="once", enabled=False, at=T)
    assert record_or_defer(task.pk, T, "finished", T, "j0")  # the database answers: recorded now
    with database_refuses():
        for i in range(1, 16):
            status = "failed" if i % 5 == 0 else "finished"
            assert not record_or_defer(task.pk, T + timedelta(minutes=i), status, T, f"j{i}")
    cfg = get_config()
    assert get_client(cfg.broker_url).llen(GlobalKeys(cfg.key_prefix).pending_runs) == 15
    task.refresh_from_db()
    assert task.run_count == 1
    result = Scheduler(cfg).run_once(now=T + timedelta(hours=1))
    assert result.deferred_runs == 15
    task.refresh_from_db()
    assert (task.run_count, task.success_count, task.failure_count) == (16, 13, 3)
    assert task.last_run_at == T + timedelta(minutes=15) and task.last_status == "failed"
    assert get_client(cfg.broker_url).llen(GlobalKeys(cfg.key_prefix).pending_runs) == 0
    assert Scheduler(cfg).run_once(now=T + timedelta(hours=2)).deferred_runs == 0  # counted once


def test_a_pass_during_the_outage_keeps_the_runs(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(django_capture_on_commit_callbacks, now=T, type="once", enabled=False, at=T)
    with database_refuses():
        record_or_defer(task.pk, T, "finished", T, "j1")
        with pytest.raises(Exception) as info:
            apply_deferred()
        from scheduler_core.errors import from_service_error  # noqa: PLC0415

        assert isinstance(from_service_error(info.value), DatabaseUnavailable)
    assert apply_deferred() == 1
    task.refresh_from_db()
    assert task.run_count == 1
