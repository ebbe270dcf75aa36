"""Redis faults under a draining worker: restart (AOF), SIGKILL (AOF), SIGSTOP past the socket
timeout, and a memory limit reached mid-enqueue and mid-drain. Every execution is counted."""

from __future__ import annotations

import time

import pytest

from scheduler_core.errors import EnqueueIncomplete
from scheduler_core.jobs.record import Retry
from scheduler_core.queues.queue import JobCall
from tests.chaos.rig import Rig, wait_for

pytestmark = pytest.mark.chaos
CONCURRENCY = 2


def calls(rig: Rig, n: int, seconds: float = 0.004, start: int = 0) -> list[JobCall]:
    path = str(rig.runs_file)
    return [
        JobCall("tests.chaos.jobs.mark", (path, f"j{i}", seconds), job_id=f"j{i}", retry=Retry(3, (0,)))
        for i in range(start, start + n)
    ]


def drained(rig: Rig, n: int, timeout: float = 90) -> None:
    q = rig.queue()
    wait_for(lambda: q.count("finished") + q.count("failed") == n, timeout, f"{n} jobs to end")
    assert q.count("finished") == n, q.counts()


@pytest.mark.parametrize("how", ["restart", "sigkill"])
def test_redis_restart_or_sigkill_with_aof(rig: Rig, how: str) -> None:
    server = rig.redis(aof=True)
    n = 800
    rig.queue().enqueue_many(calls(rig, n))
    rig.worker("--concurrency", str(CONCURRENCY), name="w")
    wait_for(lambda: len(rig.runs()) >= n // 4, 60, "a quarter of the jobs run")
    down = time.time()
    server.shutdown() if how == "restart" else server.kill()
    time.sleep(1.0)
    server.start()
    back = time.time()
    drained(rig, n)
    lost, doubled = rig.tally(f"j{i}" for i in range(n))
    rig.report(f"Redis {'restart (SIGTERM, AOF)' if how == 'restart' else 'SIGKILL (AOF always)'}",
               jobs=n, down_s=round(back - down, 2), resumed_s=rig.resumed_after(back), lost=lost,
               run_twice=doubled)  # fmt: skip
    assert lost == 0
    assert doubled <= CONCURRENCY  # at most the jobs in flight when it went down (at-least-once)


def test_redis_sigstop_longer_than_the_socket_timeout(rig: Rig) -> None:
    rig.timings["LEASE_TTL"] = "10"  # leases outlive the pause; the socket timeout does not
    server = rig.redis(url_options="?socket_timeout=1")
    n = 600
    rig.queue().enqueue_many(calls(rig, n))
    rig.worker("--concurrency", str(CONCURRENCY), name="w")
    wait_for(lambda: len(rig.runs()) >= n // 4, 60, "a quarter of the jobs run")
    server.pause()
    time.sleep(4.0)
    server.resume()
    back = time.time()
    drained(rig, n)
    lost, doubled = rig.tally(f"j{i}" for i in range(n))
    rig.report("Redis SIGSTOP 4 s (socket timeout 1 s)", jobs=n, resumed_s=rig.resumed_after(back),
               lost=lost, run_twice=doubled)  # fmt: skip
    assert lost == 0 and doubled == 0


def test_maxmemory_reached_mid_enqueue(rig: Rig) -> None:
    server = rig.redis("--maxmemory", "3mb")
    q = rig.queue()
    n = 8000
    with pytest.raises(EnqueueIncomplete) as info:
        q.enqueue_many(calls(rig, n))
    written = info.value.ids
    assert 0 < len(written) < n
    server.client().config_set("maxmemory", "0")  # the operator makes room
    proc = rig.worker("--burst", "--concurrency", str(CONCURRENCY), name="w")
    assert proc.wait(120) == 0, rig.log_of(proc)
    lost, doubled = rig.tally(written)  # exactly the jobs it said it wrote, once each
    assert (lost, doubled) == (0, 0)
    rest = set(written)
    q.enqueue_many([c for c in calls(rig, n) if c.job_id not in rest])
    proc = rig.worker("--burst", "--concurrency", str(CONCURRENCY), name="w2")
    assert proc.wait(180) == 0, rig.log_of(proc)
    lost, doubled = rig.tally(f"j{i}" for i in range(n))
    rig.report("maxmemory 3 MB reached mid-enqueue (enqueue_many 8,000)", jobs=n, written=len(written),
               lost=lost, run_twice=doubled)  # fmt: skip
    assert (lost, doubled) == (0, 0)


def test_maxmemory_reached_mid_drain(rig: Rig) -> None:
    server = rig.redis()
    n = 1500
    rig.queue().enqueue_many(calls(rig, n, seconds=0.004))
    proc = rig.worker("--concurrency", str(CONCURRENCY), name="w")
    wait_for(lambda: len(rig.runs()) >= 200, 60, "200 jobs run")
    c = server.client()
    used = int(c.info("memory")["used_memory"])
    c.config_set("maxmemory", str(max(used // 2, 1)))  # full: writes refused
    full_at = time.time()
    time.sleep(4.0)  # longer than the 3 s lease: leases must be kept, not lost
    c.config_set("maxmemory", "0")
    back = time.time()
    while_full = sum(1 for _, at in rig.runs() if full_at < at < back)
    drained(rig, n)
    assert proc.poll() is None, rig.log_of(proc)  # rode it out
    log = rig.log_of(proc)
    oom_lines = [line for line in log.splitlines() if "out of memory" in line]
    lost, doubled = rig.tally(f"j{i}" for i in range(n))
    rig.report("maxmemory reached mid-drain (4 s full)", jobs=n, resumed_s=rig.resumed_after(back),
               lost=lost, run_twice=doubled, ran_while_full=while_full, log_lines=len(oom_lines))  # fmt: skip
    assert lost == 0 and doubled == 0
    assert len(oom_lines) <= 2 * (CONCURRENCY + 2), oom_lines  # per change of state, not per attempt
    assert "Traceback" not in log
