"""Workers on separate hosts: a worker in its own network namespace, joined to the host by a veth
pair, talks to a private redis-server bound to loopback and to the host side of the pair. The
tests cut that link (the namespace's end goes down) and heal it.

Run with `-m partition tests/partition` as root (CI: .ci/steps/45-partition.sh); every other run
skips them, and so does a run that is not root or has no `ip`."""

from __future__ import annotations

import collections
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler_core.conf import reset_config
from tests.private_redis import PrivateRedis
from tests.processes import REPO, kill_sessions, recorded_runs, start_worker_logged

IP = shutil.which("ip")
LEASE_TTL = 3.0
TIMINGS = {"TASKCTL_LEASE_TTL": str(LEASE_TTL), "TASKCTL_HEARTBEAT_INTERVAL": "0.5"}


def _ip(*args: str) -> None:
    assert IP is not None
    subprocess.run([IP, *args], check=True, capture_output=True, timeout=10)


class Netns:
    """A network namespace with one veth pair to the host; addresses from 198.18.0.0/15 (the
    benchmarking range), a /30 of its own picked so as not to clash with one in use."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}{random.randrange(1000):03d}"
        self.name = f"tcpart{tag}"
        self.host_if, self.ns_if = f"tch{tag}", f"tcn{tag}"  # interface names: at most 15 bytes
        used = subprocess.run([IP or "ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
        while True:
            net = f"198.18.{random.randrange(256)}.{4 * random.randrange(64)}"
            a, b, c, d = net.split(".")
            self.host_addr, self.ns_addr = f"{a}.{b}.{c}.{int(d) + 1}", f"{a}.{b}.{c}.{int(d) + 2}"
            if f" {self.host_addr}/" not in used and f" {self.ns_addr}/" not in used:
                break
        self.created = False

    def create(self) -> None:
        _ip("netns", "add", self.name)
        self.created = True
        _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        _ip("link", "set", self.ns_if, "netns", self.name)
        _ip("addr", "add", f"{self.host_addr}/30", "dev", self.host_if)
        _ip("link", "set", self.host_if, "up")
        self.exec_ip("addr", "add", f"{self.ns_addr}/30", "dev", self.ns_if)
        self.exec_ip("link", "set", self.ns_if, "up")
        self.exec_ip("link", "set", "lo", "up")

    def exec_ip(self, *args: str) -> None:
        _ip("netns", "exec", self.name, IP or "ip", *args)

    def cut(self) -> None:
        """The namespace's end of the link goes down: nothing reaches the host, nor comes back."""
        self.exec_ip("link", "set", self.ns_if, "down")

    def heal(self) -> None:
        self.exec_ip("link", "set", self.ns_if, "up")

    def destroy(self) -> None:
        if not self.created:
            return
        out = subprocess.run([IP or "ip", "netns", "pids", self.name], capture_output=True, text=True)
        for pid in out.stdout.split():  # processes this test started in it (their group may be gone)
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", self.host_if)  # takes its peer in the namespace along
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "del", self.name)


class Partition:
    """One test's world: the namespace, the private Redis reachable from both sides, workers on
    either side, and the executions file."""

    def __init__(self, prefix: str, tmp: Path, settings: Any) -> None:
        self.prefix = prefix
        self.tmp = tmp
        self.settings = settings
        self.runs_file = tmp / "executions.txt"
        self.runs_file.touch()
        self.db_url = f"sqlite:///{tmp}/partition.sqlite3"  # the namespace can't reach a loopback PostgreSQL
        self.ns = Netns()
        self.server: PrivateRedis | None = None
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}

    def start(self) -> None:
        self.ns.create()
        # the later --bind wins: loopback for the test and the host-side worker, the veth for the other
        self.server = PrivateRedis("--bind", "127.0.0.1", self.ns.host_addr, "--protected-mode", "no")
        conf = dict(self.settings.SCHEDULER)
        conf["BROKER_URL"], conf["KEY_PREFIX"] = self.server.url, self.prefix
        self.settings.SCHEDULER = conf
        reset_config()

    def env(self, broker_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "TASKCTL_SETTINGS": "tests.settings", "PYTHONPATH": str(REPO), "TASKCTL_KEY_PREFIX": self.prefix,
            "TASKCTL_TEST_REDIS_URL": broker_url, "TASKCTL_TEST_DATABASE_URL": self.db_url, **TIMINGS,
        })  # fmt: skip
        env.pop("DJANGO_SETTINGS_MODULE", None)
        return env

    def worker(self, name: str, *args: str, isolated: bool) -> subprocess.Popen[bytes]:
        """`worker start` on the host (`isolated=False`) or inside the namespace."""
        assert self.server is not None
        host = self.ns.host_addr if isolated else "127.0.0.1"
        argv = [sys.executable, "-m", "taskctl", "worker", "start", "--name", name, "--without-scheduler"]
        argv += args
        if isolated:
            argv = [IP or "ip", "netns", "exec", self.ns.name, *argv]  # ip execs: the pid is the worker's
        log = self.tmp / f"{name}.log"
        proc = start_worker_logged(argv, self.env(f"redis://{host}:{self.server.port}/0"), self.tmp, log)
        self.procs.append(proc)
        self.logs[proc.pid] = log
        return proc

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        return self.logs[proc.pid].read_text()

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout)

    def executions(self) -> list[tuple[str, int]]:
        return [(token, int(pid)) for token, pid in recorded_runs(self.runs_file)]

    def counts(self) -> collections.Counter[str]:
        return collections.Counter(token for token, _ in self.executions())

    def close(self) -> None:
        kill_sessions(self.procs)
        self.ns.destroy()
        if self.server is not None:
            self.server.stop()


@pytest.fixture
def partition(key_prefix: str, tmp_path: Path, settings: Any) -> Iterator[Partition]:
    if os.geteuid() != 0:
        pytest.skip("partition tests need root (ip netns, veth pairs)")
    if IP is None:
        pytest.skip("partition tests need iproute2's `ip` on PATH")
    if shutil.which("redis-server") is None:
        pytest.skip("partition tests need a redis-server binary")
    p = Partition(key_prefix, tmp_path, settings)
    try:
        p.start()
        yield p
    finally:
        p.close()
