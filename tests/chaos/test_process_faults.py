"""Process faults: SIGKILL of a worker's whole tree (restarted at once under its own name), of one
execution process, of the scheduler subprocess, and of the leader's worker with a standby."""

from __future__ import annotations

import collections
import os
import re
import signal
import time
from pathlib import Path

import pytest

from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.jobs.record import Retry
from scheduler_core.queues.queue import JobCall
from tests.chaos.rig import Rig, children, wait_for

pytestmark = pytest.mark.chaos
CONCURRENCY = 2


def jobs(rig: Rig, n: int, seconds: float) -> list[str]:
    path = str(rig.runs_file)
    rig.queue().enqueue_many([
        JobCall("tests.chaos.jobs.mark", (path, f"j{i}", seconds), job_id=f"j{i}", retry=Retry(3, (0,)))
        for i in range(n)
    ])  # fmt: skip
    return [f"j{i}" for i in range(n)]


def drained(rig: Rig, n: int, timeout: float = 90) -> None:
    q = rig.queue()
    wait_for(lambda: q.count("finished") + q.count("failed") == n, timeout, f"{n} jobs to end")
    assert q.count("finished") == n, q.counts()


def test_sigkill_of_the_worker_tree_and_an_immediate_restart_under_its_name(rig: Rig) -> None:
    rig.redis()
    n = 300
    ids = jobs(rig, n, 0.02)
    first = rig.worker("--concurrency", str(CONCURRENCY), name="w")
    wait_for(lambda: len(rig.runs()) >= n // 4, 60, "a quarter of the jobs run")
    rig.kill_tree(first)
    killed = time.time()
    rig.worker("--concurrency", str(CONCURRENCY), name="w")  # not "already running": it is dead
    started = time.time() - killed
    drained(rig, n)
    lost, doubled = rig.tally(ids)
    rig.report("SIGKILL of the worker tree, restart under the same --name", jobs=n,
               restart_accepted_s=round(started, 2), resumed_s=rig.resumed_after(killed), lost=lost,
               run_twice=doubled)  # fmt: skip
    assert lost == 0 and doubled <= CONCURRENCY


def test_sigkill_of_one_execution_process(rig: Rig) -> None:
    rig.redis()
    n = 200
    ids = jobs(rig, n, 0.05)
    proc = rig.worker("--concurrency", str(CONCURRENCY), name="w")
    wait_for(lambda: len(rig.runs()) >= n // 4, 60, "a quarter of the jobs run")
    victim = children(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    killed = time.time()
    drained(rig, n)
    lost, doubled = rig.tally(ids)
    rig.report("SIGKILL of one execution process", jobs=n, resumed_s=rig.resumed_after(killed), lost=lost,
               run_twice=doubled)  # fmt: skip
    assert lost == 0 and doubled <= 1
    assert proc.poll() is None


# ----- with tasks: a database of the test's own (SQLite file), a task every second -----
MANIFEST = """\
version: 1
set: chaos
tasks:
  - name: every-second
    type: repeatable
    callable: tests.chaos.jobs.tick
    kwargs: {{path: "{path}"}}
    on_success: tests.chaos.jobs.counted
    interval: 1s
    retry: {{max: 2, backoff: [0s]}}
"""


def setup_task(rig: Rig) -> None:
    for argv in (("db", "migrate"), ("tasks", "apply", "-f", str(rig.tmp / "tasks.yaml"))):
        if argv[0] == "tasks":
            (rig.tmp / "tasks.yaml").write_text(MANIFEST.format(path=rig.runs_file))
        out = rig.taskctl(*argv)
        assert out.returncode == 0, out.stderr


def occurrences(rig: Rig) -> tuple[int, int, int]:
    """(occurrences due, lost, run twice) from the third occurrence that ran (the tests wait for
    three before the fault; the first ones follow the misfire policy of a task applied before
    its scheduler started) to the last one."""
    counts = collections.Counter(t for t, _ in rig.runs())
    times = sorted(int(t.rsplit("-", 1)[1]) for t in counts)
    assert len(times) > 3, "no occurrence ran after the fault"
    pk = next(iter(counts)).split("-")[1]
    want = [f"task-{pk}-{ts}" for ts in range(times[2], times[-1] + 1)]
    missing = [w for w in want if counts[w] == 0]
    if missing:  # say where they went: their records (if any) and the logs
        q = rig.queue()
        jobs = {m: q.fetch_job(m) for m in missing}
        print("missing occurrences:", {m: (q.registry_of(m), j and j.status) for m, j in jobs.items()})
        print("ran:", sorted(counts))
    return len(want), len(missing), sum(1 for w in want if counts[w] > 1)


def test_sigkill_of_the_scheduler_subprocess(rig: Rig) -> None:
    rig.redis()
    setup_task(rig)
    proc = rig.worker("--with-scheduler", "--concurrency", str(CONCURRENCY), name="w")
    wait_for(lambda: len(rig.runs()) >= 3, 30, "three occurrences run")
    os.kill(rig.scheduler_pid(proc), signal.SIGKILL)
    killed = time.time()
    wait_for(lambda: len(re.findall(r"scheduler started", rig.log_of(proc))) >= 2, 20, "scheduler restarted")
    time.sleep(5.0)
    assert rig.stop(proc) == 0, rig.log_of(proc)
    total, lost, doubled = occurrences(rig)
    rig.report("SIGKILL of the scheduler subprocess (task every 1 s)", occurrences=total,
               resumed_s=rig.resumed_after(killed), occurrences_lost=lost,
               occurrences_doubled=doubled)  # fmt: skip
    assert lost == 0 and doubled == 0


def test_leader_failover_between_two_workers(rig: Rig) -> None:
    rig.redis()
    setup_task(rig)
    a = rig.worker("--with-scheduler", "--concurrency", str(CONCURRENCY), name="a")
    b = rig.worker("--with-scheduler", "--concurrency", str(CONCURRENCY), name="b")
    c = rig.server.client()  # type: ignore[union-attr]
    lock = GlobalKeys(rig.prefix).scheduler_lock
    holder = wait_for(lambda: c.get(lock), 20, "a leader")
    wait_for(lambda: len(rig.runs()) >= 3, 30, "three occurrences run")
    leader_pid = int(str(c.get(lock) or holder).split(":")[1])
    leader, standby = (a, b) if leader_pid in children(a.pid) else (b, a)
    assert leader_pid in children(leader.pid)
    rig.kill_tree(leader)
    killed = time.time()

    def new_leader() -> bool:
        token = str(c.get(lock) or "")
        return bool(token) and token.split(":")[1] != str(leader_pid)

    wait_for(new_leader, 20, "a new leader")
    took_over = round(time.time() - killed, 2)
    time.sleep(6.0)  # past the dead worker's leases: its jobs are recovered
    assert rig.stop(standby) == 0, rig.log_of(standby)
    total, lost, doubled = occurrences(rig)
    rig.report("leader failover: SIGKILL of the leader's worker tree, a standby worker", occurrences=total,
               takeover_s=took_over, resumed_s=rig.resumed_after(killed), occurrences_lost=lost,
               occurrences_doubled=doubled)  # fmt: skip
    assert lost == 0 and doubled <= CONCURRENCY
    assert Path(rig.runs_file).exists()
