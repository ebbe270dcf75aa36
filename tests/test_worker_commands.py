"""Every worker command through worker.control, against real `taskctl worker start` processes."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from scheduler_core.errors import InvalidInput, NotFound
from scheduler_core.jobs import actions as job_actions
from scheduler_core.jobs.record import JobStatus
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.worker import control
from tests.processes import WorkerProc, assert_clean, redis_get, status_of, wait_for, wait_status

pytestmark = pytest.mark.process


def _me(w: WorkerProc) -> dict:  # type: ignore[type-arg]
    return next(x for x in control.list_workers() if x["name"] == w.name)


def test_list_workers_shows_state_and_current_job(worker: WorkerProc) -> None:
    q = get_queue("default")
    proc = worker.start("high", "default", "--concurrency", "2")
    rec = _me(worker)
    assert rec["pid"] == proc.pid and rec["queues"] == ["high", "default"] and rec["state"] == "idle"
    assert rec["started_at"].tzinfo is not None and rec["last_heartbeat"] >= rec["started_at"]
    job = q.enqueue("tests.jobs.sleep", 3)
    wait_for(lambda: _me(worker)["current_jobs"] == [job.id], 10, "current job in the record")
    assert _me(worker)["state"] == "busy"
    wait_status(q, job, JobStatus.FINISHED)
    wait_for(lambda: _me(worker)["jobs_done"] == 1 and _me(worker)["state"] == "idle", 10, "counters")


def test_stop_job(worker: WorkerProc) -> None:
    q = get_queue("default")
    worker.start()
    job = q.enqueue_call(JobCall("tests.jobs.sleep", (30,), on_stopped="tests.jobs.callback_stopped"))
    wait_status(q, job, JobStatus.ACTIVE)
    job_actions.stop(job.id)
    got = wait_status(q, job, JobStatus.STOPPED, timeout=5)
    assert got.exc_type == "JobStopped" and q.registry_of(job.id) == "failed"
    wait_for(lambda: redis_get(f"callback:{job.id}") == "stopped", 10, "on_stopped callback")
    with pytest.raises(InvalidInput, match="not running"):
        job_actions.stop(job.id)
    with pytest.raises(NotFound):
        job_actions.stop("no-such-job")
    after = q.enqueue("tests.jobs.add", 1, 2)  # the worker goes on with a fresh execution process
    assert wait_status(q, after, JobStatus.FINISHED).result == 3
    assert_clean(q)


def test_suspend_and_resume(worker: WorkerProc) -> None:
    q = get_queue("default")
    worker.start()
    control.suspend_worker(worker.name)
    wait_for(lambda: _me(worker)["state"] == "suspended", 10, "suspended")
    job = q.enqueue("tests.jobs.noop")
    time.sleep(1.0)
    assert status_of(q, job) is JobStatus.QUEUED
    control.resume_worker(worker.name)
    wait_status(q, job, JobStatus.FINISHED, timeout=5)
    wait_for(lambda: _me(worker)["state"] == "idle", 10, "idle again")


def test_stop_worker_warm_and_cold(worker: WorkerProc) -> None:
    q = get_queue("default")
    warm = worker.start()
    job = q.enqueue("tests.jobs.sleep", 1)
    wait_status(q, job, JobStatus.ACTIVE)
    control.stop_worker(worker.name)
    assert warm.wait(15) == 0
    assert status_of(q, job) is JobStatus.FINISHED
    with pytest.raises(NotFound, match="no running worker"):
        control.stop_worker(worker.name)
    cold = worker.start()
    job2 = q.enqueue("tests.jobs.sleep", 30)
    wait_status(q, job2, JobStatus.ACTIVE)
    control.stop_worker(worker.name, now=True)
    assert cold.wait(10) == 0
    assert status_of(q, job2) is JobStatus.STOPPED
    assert_clean(q)


def test_commands_to_unknown_workers_are_not_found() -> None:
    for call in (control.suspend_worker, control.resume_worker, control.stop_worker):
        with pytest.raises(NotFound):
            call("nobody.1")
    assert control.list_workers() == []


def test_name_in_use_is_a_conflict(worker: WorkerProc) -> None:
    worker.start(name="same")
    out = subprocess.run([sys.executable, "-m", "taskctl", "worker", "start", "--name", "same", "--burst"],
                         env=worker.env(), capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode == 4
    assert out.stderr == "taskctl: error: a worker named 'same' is already running (choose another --name)\n"
