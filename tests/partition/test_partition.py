"""A worker on a host of its own, cut off from Redis for longer than LEASE_TTL: the host-side
worker recovers its jobs and reruns them; when the link heals, the cut-off worker's late outcome
is fenced (the rerun's stands) and it rejoins without a restart: its heartbeat resumes, its record
is whole again, and it takes new jobs."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scheduler_core.jobs.record import Job, JobStatus, Retry
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.worker import control
from tests.partition.conftest import LEASE_TTL, Partition
from tests.processes import wait_for

pytestmark = [pytest.mark.partition, pytest.mark.process, pytest.mark.slow]

EXECUTION = "tests.partition.jobs.execution"


def _record(name: str) -> dict[str, Any] | None:
    return next((w for w in control.list_workers() if w["name"] == name), None)


def _status(job: Job) -> tuple[JobStatus | None, str | None]:
    fetched = get_queue("default").fetch_job(job.id)
    return (fetched.status, fetched.worker) if fetched else (None, None)


def _wait_status(job: Job, worker: str, what: str) -> None:
    wait_for(lambda: _status(job) == (JobStatus.FINISHED, worker), 30, f"{job.id} {what}")


def test_a_cut_off_worker_is_recovered_fenced_and_rejoins(partition: Partition) -> None:
    p = partition
    q = get_queue("default")
    a_name, b_name = f"far-{p.prefix}", f"near-{p.prefix}"
    far = p.worker(a_name, "-c", "2", "default", isolated=True)
    held = q.enqueue_many(
        [JobCall(EXECUTION, (str(p.runs_file), f"held{i}", 2.0), retry=Retry(2, (0,))) for i in range(2)]
    )
    wait_for(lambda: sum(pid == far.pid for _, pid in p.executions()) == 2, 20, "the far worker runs both")

    p.ns.cut()
    cut_at = time.time()
    near = p.worker(b_name, "default", isolated=False)
    for job in held:  # recovered once the far worker's leases expire, then rerun on this side
        _wait_status(job, b_name, "rerun near")
    assert time.time() - cut_at > LEASE_TTL
    assert _record(a_name) is None  # its record went with its heartbeats
    assert "not recorded" not in p.log_of(far)  # still cut off: it has recorded nothing yet

    p.ns.heal()
    healed_at = time.time()
    wait_for(lambda: p.log_of(far).count("(not recorded: no longer active)") == 2, 60, "late outcomes")
    for job in held:
        fetched = q.fetch_job(job.id)
        assert fetched is not None
        assert (fetched.status, fetched.worker) == (JobStatus.FINISHED, b_name)
        assert fetched.result == f"{job.args[1]} {near.pid}"  # the rerun's result, not the late one
    assert p.counts() == {"held0": 2, "held1": 2}  # once each side: at-least-once, no third run

    # it rejoins: heartbeats again, under its own name, with a whole record
    rec = wait_for(lambda: (r := _record(a_name)) and r["last_heartbeat"].timestamp() > healed_at and r,
                   30, "the far worker's heartbeat")  # fmt: skip
    assert (rec["pid"], rec["queues"], bool(rec["host"])) == (far.pid, ["default"], True)
    assert p.stop(near) == 0
    fresh = q.enqueue_many([JobCall(EXECUTION, (str(p.runs_file), f"new{i}")) for i in range(4)])
    for job in fresh:
        _wait_status(job, a_name, "run on the far worker")
    assert [pid for token, pid in p.executions() if token.startswith("new")] == [far.pid] * 4
    assert far.poll() is None  # the same process throughout: no restart
    assert p.stop(far) == 0


def test_a_late_success_never_overwrites_the_lost_verdict(partition: Partition) -> None:
    """Without retries a recovered job fails as WorkerLost; the cut-off worker's success, arriving
    after the heal, is fenced off that failed record too."""
    p = partition
    q = get_queue("default")
    name = f"far-{p.prefix}"
    far = p.worker(name, "default", isolated=True)
    job = q.enqueue_call(JobCall(EXECUTION, (str(p.runs_file), "once", 1.0)))
    wait_for(lambda: p.counts()["once"] == 1, 20, "the far worker runs it")
    p.ns.cut()
    near = p.worker(f"near-{p.prefix}", "default", isolated=False)
    wait_for(lambda: _status(job)[0] is JobStatus.FAILED, 30, "the job recovered as lost")
    p.ns.heal()
    wait_for(lambda: "(not recorded: no longer active)" in p.log_of(far), 60, "the late outcome")
    fetched = q.fetch_job(job.id)
    assert fetched is not None
    assert (fetched.status, fetched.exc_type, fetched.result) == (JobStatus.FAILED, "WorkerLost", None)
    assert p.counts() == {"once": 1}
    assert p.stop(near) == 0
    assert p.stop(far) == 0
