"""The chaos rig: a private redis-server, worker processes on it, and exact execution counts."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from scheduler_core.conf import reset_config
from scheduler_core.queues.queue import get_queue
from tests.private_redis import PrivateRedis
from tests.processes import kill_sessions, recorded_runs, start_worker_logged

REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.time() + timeout
    while True:
        try:
            value = predicate()
        except Exception:  # the broker may be down: keep looking
            value = None
        if value:
            return value
        if time.time() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


class Rig:
    """One test's world: a private Redis (started by `redis()`), workers started with `worker()`,
    the executions file, and the figures the test reports."""

    def __init__(self, prefix: str, tmp: Path, settings: Any) -> None:
        self.prefix = prefix
        self.tmp = tmp
        self.settings = settings
        self.runs_file = tmp / "runs.txt"
        self.runs_file.touch()
        self.server: PrivateRedis | None = None
        self.url_options = ""
        self.db_url = f"sqlite:///{tmp}/chaos.sqlite3"
        self.timings = {"LEASE_TTL": "3", "HEARTBEAT_INTERVAL": "0.5", "SCHEDULER_LOCK_TTL": "1",
                        "SCHEDULER_INTERVAL": "1"}  # fmt: skip
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}
        self.figures: list[dict[str, Any]] = []

    # ----- the broker -----
    def redis(self, *args: str, aof: bool = False, url_options: str = "") -> PrivateRedis:
        self.server = PrivateRedis("--maxmemory-policy", "noeviction", *args, aof=aof)
        self.url_options = url_options
        conf = dict(self.settings.SCHEDULER)
        conf["BROKER_URL"] = self.broker_url
        conf["KEY_PREFIX"] = self.prefix
        self.settings.SCHEDULER = conf
        reset_config()
        return self.server

    @property
    def broker_url(self) -> str:
        assert self.server is not None
        return self.server.url + self.url_options

    def queue(self, name: str = "default") -> Any:
        return get_queue(name)

    # ----- processes -----
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "TASKCTL_SETTINGS": "tests.settings", "PYTHONPATH": str(REPO), "TASKCTL_KEY_PREFIX": self.prefix,
            "TASKCTL_TEST_REDIS_URL": self.broker_url, "TASKCTL_TEST_DATABASE_URL": self.db_url,
        })  # fmt: skip
        env.update({f"TASKCTL_{k}": v for k, v in self.timings.items()})
        env.pop("DJANGO_SETTINGS_MODULE", None)
        return env

    def taskctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "taskctl", *args], env=self.env(), cwd=self.tmp,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip

    def worker(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "taskctl", "worker", "start", "--name", name, *args]
        if "--with-scheduler" not in args:
            argv.append("--without-scheduler")
        log = self.tmp / f"{name}.{len(self.procs)}.log"
        proc = start_worker_logged(argv, self.env(), self.tmp, log)
        self.procs.append(proc)
        self.logs[proc.pid] = log
        return proc

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        return self.logs[proc.pid].read_text()

    def kill_tree(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL a worker's whole process group: supervisor, execution processes, scheduler."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout)

    def scheduler_pid(self, proc: subprocess.Popen[bytes]) -> int:
        pids = [int(p) for p in re.findall(r"\[(\d+)\] scheduler started", self.log_of(proc))]
        alive = [p for p in pids if p in children(proc.pid)]
        assert alive, self.log_of(proc)
        return alive[-1]

    def close(self) -> None:
        kill_sessions(self.procs)
        if self.server is not None:
            self.server.stop()

    # ----- counting -----
    def runs(self) -> list[tuple[str, float]]:
        return [(token, float(at)) for token, at in recorded_runs(self.runs_file)]

    def counts(self) -> collections.Counter[str]:
        return collections.Counter(token for token, _ in self.runs())

    def resumed_after(self, t: float) -> float | None:
        """Seconds from `t` (the fault's end) to the first execution after it (None: nothing ran
        after it, every job had run already)."""
        after = [at for _, at in self.runs() if at > t]
        return round(min(after) - t, 2) if after else None

    def tally(self, expected: Iterable[str]) -> tuple[int, int]:
        """(lost, run twice or more) among `expected`; and no execution of anything else."""
        counts = self.counts()
        wanted = set(expected)
        assert set(counts) <= wanted, sorted(set(counts) - wanted)[:5]
        lost = sum(1 for t in wanted if counts[t] == 0)
        doubled = sum(1 for t in wanted if counts[t] > 1)
        return lost, doubled

    def report(self, fault: str, **figures: Any) -> None:
        self.figures.append({"fault": fault, **figures})
