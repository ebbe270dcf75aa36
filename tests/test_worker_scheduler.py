"""The scheduler child of `worker start`: started, restarted when it dies, stopped with the worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import WorkerProc, wait_for

pytestmark = pytest.mark.process


def children(pid: int) -> set[int]:
    """Child pids (Linux /proc: no extra dependency)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(p) for p in f.read().split()}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _scheduler_pids(w: WorkerProc) -> list[int]:
    return [int(p) for p in re.findall(r"\[(\d+)\] scheduler started", w.stderr())]


def test_scheduler_child_is_supervised(
    worker: WorkerProc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the scheduler needs migrated tables: a database file of this test's own (any backend will do)
    monkeypatch.setenv("TASKCTL_TEST_DATABASE_URL", f"sqlite:///{tmp_path}/sched.sqlite3")
    migrate = [sys.executable, "-m", "taskctl", "db", "migrate"]
    subprocess.run(migrate, env=worker.env(), check=True, capture_output=True, timeout=60)
    proc = worker.start("--with-scheduler")
    first = wait_for(lambda: _scheduler_pids(worker), 15, "scheduler started")[0]
    kids = children(proc.pid)
    assert first in kids and len(kids) == 2  # the scheduler and one execution process
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: len(_scheduler_pids(worker)) == 2, 15, "scheduler restarted")
    assert "the scheduler exited (signal 9); restarting in 1s" in worker.stderr()
    second = _scheduler_pids(worker)[1]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0, worker.stderr()
    assert not _alive(second)


def test_without_scheduler_runs_none(worker: WorkerProc) -> None:
    proc = worker.start()
    wait_for(lambda: children(proc.pid), 10, "the execution process")  # forked after registering
    time.sleep(0.5)
    assert len(children(proc.pid)) == 1
