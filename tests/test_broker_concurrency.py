"""8 processes hammer one queue (enqueue, claim, complete, cancel, requeue, delete, reap) while
the checker samples the invariant atomically; at the end no job is lost."""

from __future__ import annotations

import multiprocessing
import random
import time
from typing import Any

import pytest

from scheduler_core.broker import connection
from scheduler_core.jobs.record import JobStatus, Retry
from scheduler_core.queues import queue as queues
from scheduler_core.queues.invariants import check
from scheduler_core.queues.lifecycle import Outcome, claim, complete, reap
from scheduler_core.queues.queue import JobCall, Queue, get_queue

DURATION = 10.0
PROCS = 8


def _fresh_queue() -> Queue:
    """After fork: forget the parent's clients and queues, so this process has its own."""
    connection._clients.clear()
    queues._queues.clear()
    return get_queue("default")


def hammer(seed: int, until: float) -> None:
    rnd = random.Random(seed)
    q = _fresh_queue()
    r: Any = q.connection  # decoded replies: str
    enq, gone = f"{q.config.key_prefix}:test:enqueued", f"{q.config.key_prefix}:test:gone"
    worker = f"w{seed}"
    held = []
    while time.time() < until:
        op = rnd.random()
        if op < 0.25 and r.llen(q.keys.queued) < 300:
            calls = [
                JobCall(
                    "tests.jobs.noop", job_id=f"{seed}-{rnd.getrandbits(64):x}",
                    at=time.time() + 0.3 if rnd.random() < 0.2 else None, at_front=rnd.random() < 0.1,
                    retry=Retry(1) if rnd.random() < 0.3 else None,
                    result_ttl=rnd.choice((-1, -1, 0, 3600)), failure_ttl=rnd.choice((-1, 0, 3600)),
                )
                for _ in range(rnd.randint(1, 20))
            ]  # fmt: skip
            # recorded before the enqueue: a checker never sees an id it does not know
            r.sadd(enq, *(str(c.job_id) for c in calls))
            q.enqueue_many(calls)
        elif op < 0.55:
            job = claim(q, worker)
            if job is not None:
                held.append(job)
        elif op < 0.75 and held:
            job = held.pop(rnd.randrange(len(held)))
            status = rnd.choice((JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED))
            ttl = job.result_ttl if status is JobStatus.FINISHED else job.failure_ttl
            recorded, nxt = complete(
                q, job, Outcome(status, {"result": "1"}), worker=worker, claim_next=rnd.random() < 0.5
            )
            if recorded and ttl == 0:
                r.sadd(gone, job.id)
            if nxt is not None:
                held.append(nxt)
        elif op < 0.82:
            ids = r.lrange(q.keys.queued, 0, 20) + r.zrange(q.keys.scheduled, 0, 20)
            if ids:
                job_id = rnd.choice(ids)
                rec = q.fetch_job(job_id)
                if q.cancel(job_id) and rec is not None and rec.failure_ttl == 0:
                    r.sadd(gone, job_id)
        elif op < 0.88:
            ids = r.zrange(q.keys.failed, 0, 20) + r.zrange(q.keys.canceled, 0, 20)
            if ids:
                q.requeue(rnd.choice(ids))
        elif op < 0.93:
            ids = r.zrange(q.keys.finished, 0, 20) + r.zrange(q.keys.scheduled, 0, 5)
            if ids:
                job_id = rnd.choice(ids)
                try:
                    if q.delete(job_id):
                        r.sadd(gone, job_id)
                except Exception:  # active meanwhile: refused, fine
                    pass
        elif op < 0.96:
            q.promote_due()
        else:
            # a reaper that thinks every lease expired: jobs are taken from under their workers
            for job_id, outcome in reap(q, now=time.time() + q.config.lease_ttl + 1, limit=5):
                rec = q.fetch_job(job_id)
                if outcome == "failed" and rec is None:
                    r.sadd(gone, job_id)


@pytest.mark.slow
def test_eight_processes_never_break_the_invariant() -> None:
    q = get_queue("default")
    r = q.connection
    until = time.time() + DURATION
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=hammer, args=(i, until)) for i in range(PROCS)]
    for p in procs:
        p.start()
    samples = 0
    bad = []
    while any(p.is_alive() for p in procs):
        report = check(q)
        samples += 1
        if not report.ok:
            bad.append((report.duplicates, report.missing_record, report.orphan_records, report.wrong_status))
        time.sleep(0.05)
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert samples > 20 and bad == []
    final = check(q)
    assert final.ok, (final.duplicates, final.missing_record, final.orphan_records, final.wrong_status)
    enqueued = set(r.smembers(f"{q.config.key_prefix}:test:enqueued"))
    gone = set(r.smembers(f"{q.config.key_prefix}:test:gone"))
    present = set(final.ids)
    assert len(enqueued) > 1000
    assert present.isdisjoint(gone)
    assert enqueued == present | gone, (len(enqueued - present - gone), len((present | gone) - enqueued))
    moved = final.in_registries
    assert moved["finished"] and moved["failed"] and moved["canceled"] and moved["queued"]
