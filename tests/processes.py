"""Real processes for the tests: `taskctl` subprocesses, migrations, and worker trees."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scheduler_core.broker.connection import get_client
from scheduler_core.conf import get_config
from scheduler_core.jobs.record import Job, JobStatus
from scheduler_core.queues.invariants import check
from scheduler_core.queues.queue import Queue
from scheduler_core.worker import control


def taskctl(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskctl", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any settings selection (pytest-django sets one)."""
    drop = {"DJANGO_SETTINGS_MODULE", "TASKCTL_SETTINGS", "TASKCTL_DATABASE_URL", "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra)
    return env


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def migrate(env: dict[str, str], cwd: Path) -> None:
    """`taskctl db migrate` in a real process, for the database `env` names."""
    cmd = [sys.executable, "-m", "taskctl", "db", "migrate"]
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True, timeout=120)


REPO = Path(__file__).resolve().parent.parent

LEASE_TTL = "3"


HEARTBEAT = "0.5"


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    end = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


class WorkerProc:
    """A `taskctl worker start` subprocess with the test's key prefix and fast heartbeats."""

    def __init__(self, prefix: str, tmp: Path) -> None:
        self.prefix = prefix
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []
        self.count = 0

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "TASKCTL_SETTINGS": "tests.settings", "TASKCTL_KEY_PREFIX": self.prefix,
            "TASKCTL_LEASE_TTL": LEASE_TTL, "TASKCTL_HEARTBEAT_INTERVAL": HEARTBEAT,
            "PYTHONPATH": str(REPO),
        })  # fmt: skip
        env.pop("DJANGO_SETTINGS_MODULE", None)
        return env

    def start(self, *args: str, name: str | None = None, wait: bool = True) -> subprocess.Popen[bytes]:
        self.count += 1
        self.name = name or f"w{self.count}-{self.prefix}"
        self.log = self.tmp / f"worker{self.count}.log"
        argv = [sys.executable, "-m", "taskctl", "worker", "start", "--name", self.name, *args]
        if "--with-scheduler" not in args:
            argv.append("--without-scheduler")
        with open(self.log, "wb") as err:
            proc = subprocess.Popen(argv, env=self.env(), cwd=self.tmp, stdout=subprocess.PIPE, stderr=err)
        self.procs.append(proc)
        if wait:
            wait_for(lambda: self.registered(self.name) or proc.poll() is not None, 15, "worker registered")
            assert proc.poll() is None, self.stderr()
        return proc

    def registered(self, name: str) -> bool:
        return any(w["name"] == name for w in control.list_workers())

    def stderr(self) -> str:
        return self.log.read_text()

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def runs(token: str) -> int:
    cfg = get_config()
    return int(get_client(cfg.broker_url).get(f"{cfg.key_prefix}:runs:{token}") or 0)


def redis_get(key: str) -> str | None:
    cfg = get_config()
    value = get_client(cfg.broker_url).get(f"{cfg.key_prefix}:{key}")
    return None if value is None else str(value)


def status_of(q: Queue, job: Job) -> JobStatus | None:
    fetched = q.fetch_job(job.id)
    return fetched.status if fetched else None


def wait_status(q: Queue, job: Job, *statuses: JobStatus, timeout: float = 15) -> Job:
    wait_for(lambda: status_of(q, job) in statuses, timeout, f"job {job.id} to be {statuses}")
    fetched = q.fetch_job(job.id)
    assert fetched is not None
    return fetched


def assert_clean(q: Queue) -> None:
    report = check(q)
    assert report.ok, report
    assert report.in_registries["active"] == 0


def start_worker_logged(
    argv: list[str], env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    """Start a `worker start` ARGV in a session of its own, stderr to `log`, and wait until it says
    it serves its queues (or dies: then fail with its log)."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)  # fmt: skip
    wait_for(lambda: "started: queues" in log.read_text() or proc.poll() is not None, 30, f"{log.name} up")
    assert proc.poll() is None, log.read_text()
    return proc


def kill_sessions(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGKILL the session (the whole tree) of every process of `procs` still running, and reap
    it: for processes started in a session of their own (`start_worker_logged`)."""
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def recorded_runs(path: Path) -> list[tuple[str, str]]:
    """The lines `token value` a test's job appends to its runs file, as (token, value)."""
    out = []
    for line in path.read_text().splitlines():
        token, _, value = line.partition(" ")
        out.append((token, value))
    return out
