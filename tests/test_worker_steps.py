"""The worker's loops stepped in-process with an injected clock: the supervisor's `tick()` and the
executor's `step()`, on a real Redis, with real (tiny) child processes standing in for execution
processes. Hard timeouts, outcome fencing, idle exit, `Slots` and `Link` without a worker tree."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from scheduler_core.jobs.record import Job, JobStatus, Retry
from scheduler_core.queues import lifecycle
from scheduler_core.queues.queue import JobCall, Queue, get_queue
from scheduler_core.worker.clock import Clock
from scheduler_core.worker.executor import Executor
from scheduler_core.worker.link import Link
from scheduler_core.worker.options import WorkerOptions
from scheduler_core.worker.running import AfterWork
from scheduler_core.worker.slots import MAX_ID, RUN, STOP, SUSPEND, Slots
from scheduler_core.worker.supervisor import Supervisor

NAME = "w-steps"


class ManualClock:
    """Both clocks, moved only by `advance()`."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.wall0, self.mono0 = time.time(), time.monotonic()

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    @property
    def clock(self) -> Clock:
        return Clock(wall=lambda: self.wall0 + self.offset, mono=lambda: self.mono0 + self.offset)

    def mono(self) -> float:
        return self.mono0 + self.offset


@dataclass
class Children:
    """Stand-ins for execution processes: `sh` scripts, started in the order of `scripts`
    (the last one repeats). Each exits 0 on SIGUSR1, as an execution process does on STOP."""

    scripts: list[str] = field(default_factory=lambda: ["trap 'exit 0' USR1; while :; do sleep 0.05; done"])
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, index: int, after: list[AfterWork]) -> int:
        script = self.scripts[min(len(self.procs), len(self.scripts) - 1)]
        self.procs.append(subprocess.Popen(["sh", "-c", script]))
        time.sleep(0.05)  # the trap is set before the supervisor may signal it
        return self.procs[-1].pid

    def exited(self, i: int) -> None:
        """Block until child `i` exits, leaving it for the supervisor to collect."""
        os.waitid(os.P_PID, self.procs[i].pid, os.WEXITED | os.WNOWAIT)

    def alive(self, i: int) -> bool:
        try:
            with open(f"/proc/{self.procs[i].pid}/stat") as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:  # exited and collected
            return False


@pytest.fixture
def q() -> Queue:
    return get_queue("default")


@pytest.fixture
def children() -> Iterator[Children]:
    kids = Children()
    yield kids
    for p in kids.procs:
        p.kill()
        p.wait()


def supervisor(clock: ManualClock, children: Children, **options: object) -> Supervisor:
    opts = WorkerOptions(queues=["default"], name=NAME, with_scheduler=False, **options)  # type: ignore[arg-type]
    return Supervisor(opts, clock=clock.clock, start_child=children.start)


def running_in_slot(sup: Supervisor, q: Queue, clock: ManualClock, deadline_in: float, **opts: object) -> Job:
    """A job claimed by the supervisor's worker, reported in slot 0 as an execution process does."""
    q.enqueue_call(JobCall("tests.jobs.noop", **opts))  # type: ignore[arg-type]
    job = lifecycle.claim(q, sup.name)
    assert job is not None and job.started_at is not None
    sup.slots.writer(0).begin(0, job.id, job.started_at.timestamp(), clock.mono() + deadline_in)
    return job


# ----- supervisor -----
def test_hard_timeout_kills_the_process_records_the_job_and_replaces_it(q: Queue, children: Children) -> None:
    clock = ManualClock()
    sup = supervisor(clock, children)
    assert sup.tick() and len(children.procs) == 1
    job = running_in_slot(sup, q, clock, deadline_in=10)
    clock.advance(9.9)
    assert sup.tick() and children.alive(0)
    clock.advance(0.2)
    assert sup.tick()
    assert not children.alive(0) and len(children.procs) == 2  # killed, and a new process started
    got = q.fetch_job(job.id)
    assert got is not None and got.status is JobStatus.FAILED and got.exc_type == "JobTimeout"
    assert re.fullmatch(r"hard timeout: killed after 10\.\ds", got.exc_message)
    assert not sup.slots.read(0).busy and sup.extra_failed == 1


def test_a_slot_whose_fork_failed_in_a_burst_is_tried_again_a_second_later(children: Children) -> None:
    clock = ManualClock()
    sup = supervisor(clock, children, concurrency=3)
    start_all = sup.start_children
    sup.start_children = lambda batch: start_all(batch[:1])  # the second fork of the burst failed
    assert sup.tick() and sorted(sup.children) == [0]
    sup.start_children = start_all
    assert sup.tick() and sorted(sup.children) == [0]
    clock.advance(1.0)
    assert sup.tick() and sorted(sup.children) == [0, 1, 2] and len(children.procs) == 3


def test_a_burst_whose_every_fork_fails_leaves_the_supervisor_running(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", fail)
    clock = ManualClock()
    opts = WorkerOptions(queues=["default"], name=NAME, with_scheduler=False, concurrency=2)
    sup = Supervisor(opts, clock=clock.clock)  # its own start: executors, connections, forks
    assert sup.tick() and not sup.children
    now = clock.clock.mono()
    assert sup.restart_at == {0: now + 1.0, 1: now + 1.0}
    assert "could not fork the execution process: [Errno 11]" in caplog.text


def test_a_kill_does_not_record_over_a_newer_run_of_the_job(q: Queue, children: Children) -> None:
    """The slot's claim time fences the supervisor's record: the job was recovered and claimed
    again (by the same worker name) after this process's lease ran out."""
    clock = ManualClock()
    sup = supervisor(clock, children)
    sup.tick()
    stale = running_in_slot(sup, q, clock, deadline_in=10, retry=Retry(max=1))
    t = time.time()
    lease = q.config.lease_ttl
    assert lifecycle.reap(q, now=t + lease + 1) == [(stale.id, "retrying")]
    assert q.promote_due(now=t + lease + 1) == 1
    again = lifecycle.claim(q, sup.name, now=t + lease + 2)
    assert again is not None and again.id == stale.id
    clock.advance(11)
    sup.tick()
    assert not children.alive(0)
    got = q.fetch_job(stale.id)
    assert got is not None and got.status is JobStatus.ACTIVE and got.started_at == again.started_at
    assert sup.extra_failed == 0


def test_a_dead_process_s_job_follows_the_retry_rule_and_the_slot_restarts_later(
    q: Queue, children: Children
) -> None:
    clock = ManualClock()
    children.scripts = ["sleep 0.3; exit 3", *children.scripts]
    sup = supervisor(clock, children)
    sup.tick()
    job = running_in_slot(sup, q, clock, deadline_in=60, retry=Retry(max=1, backoff=(7,)))
    children.exited(0)
    sup.tick()
    got = q.fetch_job(job.id)
    assert got is not None and got.status is JobStatus.SCHEDULED and got.exc_type == "WorkerLost"
    assert got.exc_message == "execution process died (exit code 3)" and got.attempt == 2
    assert got.due_at is not None and abs(got.due_at.timestamp() - (time.time() + 7)) < 2
    assert len(children.procs) == 1  # a process that died within a second restarts after one
    clock.advance(1.0)
    sup.tick()
    assert len(children.procs) == 2


def test_idle_exit_counts_from_the_last_busy_tick(q: Queue, children: Children) -> None:
    clock = ManualClock()
    sup = supervisor(clock, children, max_idle_time=5.0)
    sup.tick()
    running_in_slot(sup, q, clock, deadline_in=600)
    clock.advance(10)
    assert sup.tick() and sup.slots.mode == RUN  # busy: never idle
    sup.slots.writer(0).end(True)
    clock.advance(4.9)
    assert sup.tick() and sup.slots.mode == RUN
    clock.advance(0.2)
    sup.tick()
    assert sup.slots.mode == STOP  # and the process was told: it exits 0, its slot retires
    children.exited(0)
    assert not sup.tick()
    assert sup.retired == {0} and len(children.procs) == 1


# ----- executor -----
def executor(q: Queue, clock: ManualClock, slots: Slots | None = None) -> Executor:
    return Executor(index=0, queues=[q], worker=NAME, slots=slots or Slots(1), budget=None, burst=True,
                    callback_timeout=5.0, supervisor_pid=os.getpid(), clock=clock.clock)  # fmt: skip


def test_executor_steps_run_record_claim_next_and_retry_by_the_rule(q: Queue) -> None:
    ok = q.enqueue("tests.jobs.add", 1, 2)
    bad = q.enqueue_call(JobCall("tests.jobs.fail", retry=Retry(max=1, backoff=(30,))))
    ex = executor(q, ManualClock())
    assert ex.step() is None  # claims `ok`, runs it, records it and claims `bad` in one call
    done = q.fetch_job(ok.id)
    assert done is not None and done.status is JobStatus.FINISHED and done.result == 3
    assert ex.job is not None and ex.job.id == bad.id
    assert ex.step() is None  # `bad` fails with a retry left: scheduled after its backoff
    retried = q.fetch_job(bad.id)
    assert retried is not None and retried.status is JobStatus.SCHEDULED and retried.retries_left == 0
    assert ex.job is None
    assert ex.step() == 0  # burst: nothing queued, nothing due
    view = ex.slots.read(0)
    assert (view.busy, view.done, view.failed) == (False, 1, 1)


def test_executor_outcome_of_a_stale_run_is_not_recorded(q: Queue) -> None:
    t = time.time()
    lease = q.config.lease_ttl
    q.enqueue_call(JobCall("tests.jobs.noop", retry=Retry(max=1)), now=t)
    stale = lifecycle.claim(q, NAME, now=t)
    assert stale is not None
    assert lifecycle.reap(q, now=t + lease + 1) == [(stale.id, "retrying")]
    q.promote_due(now=t + lease + 1)
    again = lifecycle.claim(q, NAME, now=t + lease + 2)  # the same worker name, a newer run
    assert again is not None
    ex = executor(q, ManualClock())
    ex.job = stale
    assert ex.step() is None
    got = q.fetch_job(stale.id)
    assert got is not None and got.status is JobStatus.ACTIVE and got.started_at == again.started_at


def test_executor_claims_nothing_once_told_to_stop(q: Queue) -> None:
    slots = Slots(1)
    ex = executor(q, ManualClock(), slots)
    q.enqueue("tests.jobs.noop")
    slots.mode = STOP
    assert ex.step() == 0 and q.counts()["queued"] == 1
    slots.mode = RUN
    assert ex.step() is None and q.counts()["finished"] == 1


# ----- slots and link -----
def test_slots_round_trip_counters_and_control_byte() -> None:
    slots = Slots(2)
    assert slots.mode == RUN
    w = slots.writer(1)
    w.begin(3, "j" * (MAX_ID + 50), 1234.5, 99.0)
    v = slots.read(1)
    assert (v.busy, v.queue_index, v.job_id, v.started, v.deadline) == (True, 3, "j" * MAX_ID, 1234.5, 99.0)
    w.extend(120.0)
    assert slots.read(1).deadline == 120.0
    w.end(False)
    assert slots.read(1) == slots.read(1) and (slots.read(1).busy, slots.read(1).failed) == (False, 1)
    w.begin(0, "k", 1.0, 2.0)
    slots.reset(1)  # a dead process's slot: idle, its counters kept
    v = slots.read(1)
    assert (v.busy, v.job_id, v.done, v.failed) == (False, "", 0, 1)
    assert slots.writer(1).failed == 1  # a new process of the slot goes on counting
    assert not slots.read(0).busy
    slots.mode = SUSPEND
    assert slots.mode == SUSPEND


def test_link_speaks_evalsha_and_blpop_and_drops_a_connection_left_mid_reply(q: Queue) -> None:
    client = redis.Redis.from_url(q.broker_url, decode_responses=True, socket_timeout=0.2)
    link: Any = Link(client)  # redis-py's Script takes it where it takes a client
    try:
        script = client.register_script("return {KEYS[1], ARGV[1]}")
        assert script(keys=["k"], args=["v"], client=link) == ["k", "v"]  # NOSCRIPT, load, again
        key = f"{q.keys.job_prefix}link-test"
        client.rpush(key, "x")
        assert link.blpop([key], timeout=1) == [key, "x"]
        with pytest.raises(redis.ResponseError):
            link.evalsha("0" * 40, 0)
        assert link.conn._sock is not None  # an error reply was read whole: the connection stays
        with pytest.raises(redis.TimeoutError):
            link.blpop([key], timeout=1)  # the reply would come after the socket timeout
        assert link.conn._sock is None  # never reused: the late reply would answer the next call
        assert script(keys=["a"], args=["b"], client=link) == ["a", "b"]  # reconnects
    finally:
        link.close()
        client.close()
