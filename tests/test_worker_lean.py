"""`taskctl worker start` replaces itself (same pid) with the worker's own entry point, so the
supervisor, and every process forked from it, holds none of the CLI's modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler_core.jobs.record import JobStatus
from scheduler_core.queues.queue import get_queue
from tests.processes import WorkerProc, wait_for

pytestmark = pytest.mark.process


def test_worker_runs_without_cli_modules(worker: WorkerProc) -> None:
    proc = worker.start()
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
    assert b"scheduler_core.worker" in cmdline  # the same pid, now the worker's entry point
    q = get_queue("default")
    probe = ("typer", "click", "taskctl.app", "taskctl.commands.worker", "scheduler_core.worker.executor")
    job = q.enqueue("tests.jobs.loaded", *probe)
    done = wait_for(
        lambda: (j := q.fetch_job(job.id)) is not None and j.status is JobStatus.FINISHED and j, 15, "job"
    )
    assert done.result == ["scheduler_core.worker.executor"]  # the probe sees what is loaded


def test_errors_after_the_exec_keep_their_exit_codes(worker: WorkerProc) -> None:
    """A name conflict is found after the exec: still one line and exit 4."""
    worker.start(name="lean-twice")
    second = worker.start(name="lean-twice", wait=False)
    assert second.wait(15) == 4
    err = worker.stderr()
    assert "already running" in err and "Traceback" not in err
