"""PostgreSQL refuses connections for 20 s (ALLOW_CONNECTIONS false + pg_terminate_backend) under a
worker with its scheduler and a task every second: no occurrence lost or doubled, and the task's
counters equal the runs afterwards. On a database of the test's own, dropped after."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from scheduler_core.broker.keys import GlobalKeys
from tests.chaos.rig import Rig, wait_for
from tests.chaos.test_process_faults import occurrences, setup_task

pytestmark = pytest.mark.chaos
PG = os.environ.get("TASKCTL_CHAOS_PG", "postgres://postgres@127.0.0.1:5432/postgres")
OUTAGE = 20.0


def _admin() -> Any:
    return psycopg.connect(PG, autocommit=True, connect_timeout=3)


@pytest.fixture
def database() -> Iterator[str]:
    try:
        admin = _admin()
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG.rsplit('@', 1)[-1]}: {exc}")
    name = f"chaos_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def counters(url: str) -> tuple[int, int]:
    with psycopg.connect(url, connect_timeout=3) as conn:
        row = conn.execute("SELECT run_count, success_count FROM scheduler_core_task").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


def test_postgresql_refuses_connections_for_20s(rig: Rig, database: str) -> None:
    rig.db_url = PG.rsplit("/", 1)[0] + f"/{database}"
    rig.redis()
    setup_task(rig)
    proc = rig.worker("--with-scheduler", "--concurrency", "2", name="w")
    wait_for(lambda: len(rig.runs()) >= 3, 30, "three occurrences run")
    admin = _admin()
    admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
    down = time.time()
    time.sleep(OUTAGE)
    admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    back = time.time()
    pending = rig.server.client()  # type: ignore[union-attr]
    key = GlobalKeys(rig.prefix).pending_runs
    kept = int(pending.llen(key))
    wait_for(lambda: pending.llen(key) == 0, 30, "the kept runs recorded")
    caught_up = round(time.time() - back, 2)
    time.sleep(2.0)
    assert rig.stop(proc) == 0, rig.log_of(proc)
    executions = len(rig.runs())
    runs, successes = counters(rig.db_url)
    total, lost, doubled = occurrences(rig)
    log = rig.log_of(proc)
    failed_pass_lines = len(re.findall(r"scheduler pass failed", log))
    ran_during = sum(1 for _, at in rig.runs() if down < at < back)
    rig.report(f"PostgreSQL connections refused for {OUTAGE:g} s", occurrences=total,
               ran_during_outage=ran_during, runs_kept=kept, counters_caught_up_s=caught_up,
               run_count=runs, executions=executions, occurrences_lost=lost,
               occurrences_doubled=doubled, log_lines=failed_pass_lines)  # fmt: skip
    assert (runs, successes) == (executions, executions)  # counters equal the runs
    assert lost == 0 and doubled == 0
    assert ran_during > 0  # jobs planned ahead kept running through the outage
    assert failed_pass_lines <= 3, failed_pass_lines  # once per change of state, not per retry
    assert "Traceback" not in log
