"""Worker-side registry moves: claim, complete (and claim the next), retry, recover lost jobs.

Each move is one Lua call, so a job is in exactly one registry at every instant. Idle workers
block on the queues' signal lists (BLPOP: push-based, no polling) and then claim with a script.
Whether a failed attempt is retried is decided by one rule (jobs/failure.py), here for a lost
worker's job exactly as in the worker for a job that raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from scheduler_core.jobs import failure
from scheduler_core.jobs.record import Job, JobStatus, dumps
from scheduler_core.queues.queue import Queue


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    it = iter(flat)
    return dict(zip(it, it, strict=True))


def claim(queue: Queue, worker: str, *, now: float | None = None, client: Any = None) -> Job | None:
    """Move the next queued job to active for `worker`; None when the queue is empty.

    `client`: anything with redis-py's `evalsha` / `script_load` (the worker passes a dedicated
    connection); default: the queue's client."""
    t = time.time() if now is None else now
    k = queue.keys
    out = queue.scripts.claim(
        keys=[k.queued, k.active, k.signal],
        args=[repr(t), repr(t + queue.config.lease_ttl), worker, k.job_prefix],
        client=client,
    )
    if not out:
        return None
    job = Job.from_fields(out[0], queue.name, _pairs(out[1:]))
    if job.corrupt:
        fail_corrupt(queue, job, worker=worker, now=t, client=client)
        return claim(queue, worker, now=now, client=client)
    return job


CORRUPT = "CorruptRecord"  # exc_type of a job failed because its record could not be read


def fail_corrupt(queue: Queue, job: Job, *, worker: str, now: float, client: Any = None) -> None:
    """A claimed record that cannot be read goes straight to failed as `corrupt record`: no
    retry, no execution process ever sees it (it would crash there, each time it is claimed)."""
    job.failure_ttl = queue.config.default_failure_ttl
    reason = f"corrupt record: {job.corrupt}"
    outcome = Outcome(JobStatus.FAILED, {"exc_type": CORRUPT, "exc_message": reason})
    complete(queue, job, outcome, worker=worker, now=now, client=client)
    logging.getLogger("taskctl.worker").warning("job %s: corrupt record (%s): failed", job.id, job.corrupt)


def claim_first(queues: Sequence[Queue], worker: str, *, now: float | None = None) -> Job | None:
    """Claim from the first non-empty queue, in priority order."""
    for q in queues:
        job = claim(q, worker, now=now)
        if job is not None:
            return job
    return None


def wait_for_work(queues: Sequence[Queue], timeout: float, *, client: Any = None) -> bool:
    """Block until a job may be waiting in one of `queues` (or `timeout` seconds pass)."""
    if not queues:
        time.sleep(timeout)
        return False
    conn = queues[0].connection if client is None else client
    return conn.blpop([q.keys.signal for q in queues], timeout=max(timeout, 0.01)) is not None


@dataclass
class Outcome:
    """How a job ended: the registry it goes to and the fields to record."""

    status: JobStatus
    fields: dict[str, Any]

    @property
    def registry(self) -> str:
        return {
            JobStatus.FINISHED: "finished",
            JobStatus.FAILED: "failed",
            JobStatus.STOPPED: "failed",
            JobStatus.CANCELED: "canceled",
        }[self.status]


def run_of(job: Job) -> str:
    """The fence of a run: its claim's start time (finish / retry of an older run do nothing)."""
    return repr(job.started_at.timestamp()) if job.started_at else ""


def complete(
    queue: Queue,
    job: Job,
    outcome: Outcome,
    *,
    worker: str,
    claim_next: bool = False,
    now: float | None = None,
    client: Any = None,
    lease_expired_by: float | None = None,
) -> tuple[bool, Job | None]:
    """Record the outcome (active -> terminal registry) and, if asked, claim the next job from the
    same queue in the same round trip. Returns (recorded, next job). `recorded` is False when the
    job was no longer active (e.g. it was recovered as lost meanwhile): the first outcome wins.
    `lease_expired_by` (the reaper's): record only if the job's lease ran out by then."""
    t = time.time() if now is None else now
    k = queue.keys
    ttl = job.result_ttl if outcome.status is JobStatus.FINISHED else job.failure_ttl
    # status first: finish.lua names the outcome counter after it
    fields: list[Any] = ["status", outcome.status.value, "ended_at", repr(t)]
    for key, value in outcome.fields.items():
        fields += [key, value]
    keys = [
        k.active,
        k.registry(outcome.registry),
        k.job(job.id),
        k.queued,
        k.signal,
        k.stats,
        k.done(job.id),
    ]
    out = queue.scripts.finish(
        keys=keys,
        args=[
            job.id, repr(t), ttl, "1" if claim_next else "0", repr(t + queue.config.lease_ttl),
            worker, k.job_prefix, run_of(job), _opt(lease_expired_by), *fields,
        ],
        client=client,
    )  # fmt: skip
    recorded = bool(int(out[0]))
    if len(out) > 1:
        nxt = Job.from_fields(out[1], queue.name, _pairs(out[2:]))
        if nxt.corrupt:
            fail_corrupt(queue, nxt, worker=worker, now=t, client=client)
            return recorded, claim(queue, worker, now=now, client=client)
        return recorded, nxt
    return recorded, None


def retry_later(
    queue: Queue,
    job: Job,
    delay: float,
    fields: dict[str, Any],
    *,
    now: float | None = None,
    lease_expired_by: float | None = None,
) -> bool:
    """A failed attempt with retries left: active -> scheduled, due after `delay` seconds
    (`failure.retry_in` says whether and when). Fenced by the run, as `complete` is."""
    t = time.time() if now is None else now
    k = queue.keys
    flat: list[Any] = [
        "status", "scheduled", "due_at", repr(t + delay), "retries_left", max(job.retries_left - 1, 0),
        "attempt", job.attempt + 1,
    ]  # fmt: skip
    for key, value in fields.items():
        flat += [key, value]
    flat += ["history", _history_with(job, fields, t)]
    keys = [k.active, k.scheduled, k.job(job.id), k.stats]
    args = [job.id, repr(t + delay), job.worker or "", run_of(job), _opt(lease_expired_by), *flat]
    return bool(queue.scripts.retry(keys=keys, args=args))


HISTORY_KEPT = 20  # attempts a record remembers (the oldest go first)


def _history_with(job: Job, fields: dict[str, Any], ended: float) -> bytes:
    """The record's attempt history with the attempt that just failed added (for the job page)."""
    entry = {
        "attempt": job.attempt,
        "started_at": job.started_at.timestamp() if job.started_at else None,
        "ended_at": ended,
        "exc_type": str(fields.get("exc_type", "")),
        "exc_message": str(fields.get("exc_message", ""))[:500],
    }
    return dumps([*job.history, entry][-HISTORY_KEPT:], "attempt history")


def renew_leases(queue: Queue, job_ids: Sequence[str], *, now: float | None = None) -> None:
    """Heartbeat: push the lease of running jobs forward (a recovered job is not re-added).
    A script that keeps working when the broker is out of memory (see rescore.lua)."""
    if not job_ids:
        return
    t = time.time() if now is None else now
    deadline = t + queue.config.lease_ttl
    queue.scripts.rescore(keys=[queue.keys.active], args=[repr(deadline), *job_ids])


def reap(queue: Queue, *, now: float | None = None, limit: int = 500) -> list[tuple[str, str]]:
    """Recover jobs whose lease expired (their worker was lost): each is retried or failed by the
    one rule, as a job that raised would be. Returns (id, "retrying" | "failed") for each.

    Each move is fenced by the run read here and by the lease still being expired, so a worker
    that records (or renews) at the same moment wins, and a job is never moved twice."""
    t = time.time() if now is None else now
    k = queue.keys
    conn = queue.connection
    out: list[tuple[str, str]] = []
    expired = cast("list[str]", conn.zrangebyscore(k.active, "-inf", repr(t), start=0, num=limit))
    for job_id in expired:
        record = cast("dict[str, str]", conn.hgetall(k.job(job_id)))
        job = _lost_job(queue, job_id, record)
        if job is None:  # its record is gone (expired or deleted): drop the dangling id
            conn.zrem(k.active, job_id)
            continue
        lost = failure.WorkerLost("worker lost (lease expired)")
        fields = {"exc_type": "WorkerLost", "exc_message": str(lost)}
        delay = failure.retry_in(job, lost)
        if delay is not None:
            if retry_later(queue, job, delay, fields, now=t, lease_expired_by=t):
                out.append((job_id, "retrying"))
        elif complete(queue, job, Outcome(JobStatus.FAILED, fields), worker=job.worker, now=t,
                      lease_expired_by=t)[0]:  # fmt: skip
            out.append((job_id, "failed"))
    return out


def _lost_job(queue: Queue, job_id: str, h: dict[str, str]) -> Job | None:
    if not h:
        return None
    try:
        return Job.from_fields(job_id, queue.name, h)
    except Exception:  # an unreadable record: no retry rule can be read from it, so it fails
        # (no claim time either: the fence is its worker and the lease)
        return Job(id=job_id, queue=queue.name, callable="", worker=h.get("worker", ""),
                   failure_ttl=queue.config.default_failure_ttl)  # fmt: skip


def _opt(value: float | None) -> str:
    return "" if value is None else repr(value)
