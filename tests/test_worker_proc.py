"""Process tests of `taskctl worker start`: real workers on a real Redis, driven by signals and by
the commands channel (the `WorkerProc` helper is in tests/processes.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scheduler_core.jobs.record import JobStatus, Retry
from scheduler_core.queues.queue import JobCall, get_queue
from tests.processes import WorkerProc, assert_clean, redis_get, runs, status_of, wait_for, wait_status

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.process


# ----- tests -----
def test_burst_drains_results_and_failures(worker: WorkerProc) -> None:
    q = get_queue("default")
    ok = q.enqueue("tests.jobs.add", 2, 3)
    bad = q.enqueue("tests.jobs.fail")
    odd = q.enqueue("tests.jobs.not_json")
    aio = q.enqueue("tests.jobs.async_add", 4, 5)
    missing = q.enqueue("tests.jobs.no_such_function")
    proc = worker.start("--burst", wait=False)
    assert proc.wait(30) == 0, worker.stderr()
    assert q.fetch_job(ok.id).result == 5  # type: ignore[union-attr]
    failed = q.fetch_job(bad.id)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert (failed.exc_type, failed.exc_message) == ("RuntimeError", "tests.jobs.fail was asked to fail")
    assert "Traceback" in failed.traceback and "tests/jobs.py" in failed.traceback
    rep = q.fetch_job(odd.id)
    assert rep is not None and rep.result == "{1, 2, 3}" and rep.result_is_repr
    assert q.fetch_job(aio.id).result == 9  # type: ignore[union-attr]
    gone = q.fetch_job(missing.id)
    assert gone is not None and gone.exc_type.endswith("CallableError")
    assert q.counts() == {**q.counts(), "queued": 0, "active": 0, "finished": 3, "failed": 2}
    assert_clean(q)
    log = worker.stderr()
    assert f"job {ok.id} tests.jobs.add: finished in " in log
    assert not worker.registered(worker.name)  # its record is removed at exit


def test_priority_order_and_unknown_queue(worker: WorkerProc) -> None:
    low, high = get_queue("low"), get_queue("high")
    a = low.enqueue("tests.jobs.noop")
    b = high.enqueue("tests.jobs.noop")
    proc = worker.start("--burst", "high", "low", wait=False)
    assert proc.wait(30) == 0
    ja, jb = low.fetch_job(a.id), high.fetch_job(b.id)
    assert ja and jb and jb.started_at and ja.started_at and jb.started_at <= ja.started_at
    bad = subprocess.run([sys.executable, "-m", "taskctl", "worker", "start", "nope"], env=worker.env(),
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert bad.returncode == 3
    assert bad.stderr.strip().splitlines() == [
        "taskctl: error: unknown queue 'nope' (configured: default, high, low)"
    ]


def test_broker_unreachable_exits_69_fast(worker: WorkerProc) -> None:
    env = worker.env() | {"TASKCTL_TEST_REDIS_URL": "redis://127.0.0.1:1/0"}
    t = time.time()
    out = subprocess.run([sys.executable, "-m", "taskctl", "worker", "start", "--burst"], env=env,
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode == 69, out.stderr
    assert time.time() - t < 8
    assert out.stderr.startswith("taskctl: error: broker redis://127.0.0.1:1/0 unreachable")
    assert len(out.stderr.strip().splitlines()) == 1


def test_max_jobs_and_pid_file(worker: WorkerProc, tmp_path: Path) -> None:
    q = get_queue("default")
    jobs = [q.enqueue("tests.jobs.noop") for _ in range(5)]
    pid_file = tmp_path / "w.pid"
    proc = worker.start("--max-jobs", "3", "--pid-file", str(pid_file), wait=False)
    wait_for(pid_file.exists, 15, "pid file")
    assert pid_file.read_text().strip() == str(proc.pid)
    assert proc.wait(30) == 0, worker.stderr()
    assert not pid_file.exists()
    assert q.count("finished") == 3 and q.count("queued") == 2
    # a pid file of a live process is refused: exit 4, one line
    pid_file.write_text(f"{os.getpid()}\n")
    argv = [sys.executable, "-m", "taskctl", "worker", "start", "--burst", "--pid-file", str(pid_file)]
    out = subprocess.run(argv, env=worker.env(), capture_output=True, text=True, timeout=30)
    assert out.returncode == 4, out.stderr
    assert out.stderr == f"taskctl: error: pid file {pid_file} belongs to running process {os.getpid()}\n"
    assert pid_file.read_text() == f"{os.getpid()}\n"
    assert len(jobs) == 5


def test_max_idle_time(worker: WorkerProc) -> None:
    proc = worker.start("--max-idle-time", "0.5")
    assert proc.wait(15) == 0


def test_warm_shutdown_finishes_running_job(worker: WorkerProc) -> None:
    q = get_queue("default")
    proc = worker.start()
    job = q.enqueue("tests.jobs.record", "warm", 1.0)
    waiting = q.enqueue("tests.jobs.noop")
    wait_status(q, job, JobStatus.ACTIVE)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0, worker.stderr()
    assert status_of(q, job) is JobStatus.FINISHED
    # the second job may have been claimed before the signal; if not it is still queued
    assert status_of(q, waiting) in (JobStatus.QUEUED, JobStatus.FINISHED)
    assert_clean(q)


def test_cold_shutdown_stops_running_job(worker: WorkerProc) -> None:
    q = get_queue("default")
    proc = worker.start("--concurrency", "2")
    jobs = [q.enqueue_call(JobCall("tests.jobs.sleep", (30,), on_stopped="tests.jobs.callback_stopped"))
            for _ in range(2)]  # fmt: skip
    for j in jobs:
        wait_status(q, j, JobStatus.ACTIVE)
    t = time.time()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(15) == 0, worker.stderr()
    assert time.time() - t < 8
    for j in jobs:
        got = q.fetch_job(j.id)
        assert got and got.status is JobStatus.STOPPED and got.exc_type == "JobStopped"
        assert redis_get(f"callback:{j.id}") == "stopped"
    assert_clean(q)
    # every child is forked with the log flushed first: no buffered line is written twice
    lines = worker.stderr().splitlines()
    assert [ln for ln in lines if lines.count(ln) > 1] == []
    assert sum(f"job {j.id} tests.jobs.sleep: stopped" in ln for j in jobs for ln in lines) == 2


def test_soft_timeout_raises_inside_the_job(worker: WorkerProc) -> None:
    q = get_queue("default")
    job = q.enqueue_call(JobCall("tests.jobs.cleanup_on_timeout", ("soft", 10), timeout=1))
    worker.start()
    got = wait_status(q, job, JobStatus.FAILED)
    assert got.exc_type == "JobTimeout" and "timed out after 1s" in got.exc_message
    assert redis_get("cleaned:soft") == "1"


def test_hard_timeout_kills_and_replaces_the_process(worker: WorkerProc) -> None:
    q = get_queue("default")
    job = q.enqueue_call(JobCall("tests.jobs.ignore_timeout", (30,), timeout=1,
                                 on_failure="tests.jobs.callback_failure"))  # fmt: skip
    worker.start()
    t = time.time()
    got = wait_status(q, job, JobStatus.FAILED)
    assert 1.5 < time.time() - t < 10
    assert got.exc_type == "JobTimeout" and got.exc_message.startswith("hard timeout: killed after")
    wait_for(lambda: redis_get(f"callback:{job.id}"), 10, "on_failure callback")
    assert redis_get(f"callback:{job.id}") == "failure:JobTimeout"
    after = q.enqueue("tests.jobs.add", 1, 1)  # the new execution process takes work
    assert wait_status(q, after, JobStatus.FINISHED).result == 2
    assert_clean(q)


def test_retries_with_backoff(worker: WorkerProc) -> None:
    q = get_queue("default")
    job = q.enqueue_call(JobCall("tests.jobs.fail_times", ("r1", 2), retry=Retry(3, (1, 2))))
    never = q.enqueue_call(
        JobCall("tests.jobs.fail", retry=Retry(1, (0,)), on_failure="tests.jobs.callback_failure")
    )
    worker.start()
    got = wait_status(q, job, JobStatus.FINISHED, timeout=20)
    assert got.result == 3 and got.attempt == 3 and runs("r1") == 3
    first = got.started_at
    failed = wait_status(q, never, JobStatus.FAILED, timeout=20)
    assert failed.attempt == 2 and failed.retries_left == 0
    assert redis_get(f"callback:{never.id}") == "failure:RuntimeError"  # only after the last attempt
    assert first is not None


def test_callbacks_success_and_callback_timeout(worker: WorkerProc) -> None:
    q = get_queue("default")
    ok = q.enqueue_call(JobCall("tests.jobs.add", (1, 2), on_success="tests.jobs.callback_success"))
    slow = q.enqueue_call(JobCall("tests.jobs.add", (2, 2), on_success="tests.jobs.callback_slow"))
    worker.start("--callback-timeout", "0.5")
    assert wait_status(q, ok, JobStatus.FINISHED).result == 3
    assert redis_get(f"callback:{ok.id}") == "success:3"
    t = time.time()
    assert wait_status(q, slow, JobStatus.FINISHED).result == 4
    assert time.time() - t < 8
    wait_for(lambda: "callback tests.jobs.callback_slow failed: JobTimeout" in worker.stderr(), 5, "log line")


def test_execution_process_death_is_recorded(worker: WorkerProc) -> None:
    q = get_queue("default")
    job = q.enqueue("tests.jobs.exit_process")
    worker.start()
    got = wait_status(q, job, JobStatus.FAILED)
    assert got.exc_type == "WorkerLost" and "exit code 3" in got.exc_message
    after = q.enqueue("tests.jobs.add", 2, 2)
    assert wait_status(q, after, JobStatus.FINISHED).result == 4
