"""Worker-side registry moves: claim, complete (and claim the next), retry, recover lost jobs.

Each is one Lua call, so a job is in exactly one registry at every instant. Idle workers block
on the queues' signal lists (BLPOP: push-based, no polling) and then claim with a script.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scheduler_core.jobs.record import Job, JobStatus
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
    return Job.from_fields(out[0], queue.name, _pairs(out[1:]))


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
) -> tuple[bool, Job | None]:
    """Record the outcome (active -> terminal registry) and, if asked, claim the next job from the
    same queue in the same round trip. Returns (recorded, next job). `recorded` is False when the
    job was no longer active (e.g. it was recovered as lost meanwhile): the first outcome wins."""
    t = time.time() if now is None else now
    k = queue.keys
    ttl = job.result_ttl if outcome.status is JobStatus.FINISHED else job.failure_ttl
    fields: list[Any] = ["status", outcome.status.value, "ended_at", repr(t)]  # status first: finish.lua
    for key, value in outcome.fields.items():
        fields += [key, value]
    out = queue.scripts.finish(
        keys=[k.active, k.registry(outcome.registry), k.job(job.id), k.queued, k.signal, k.done(job.id)],
        args=[
            job.id, repr(t), ttl, "1" if claim_next else "0", repr(t + queue.config.lease_ttl),
            worker, k.job_prefix, run_of(job), *fields,
        ],
        client=client,
    )  # fmt: skip
    recorded = bool(int(out[0]))
    if len(out) > 1:
        return recorded, Job.from_fields(out[1], queue.name, _pairs(out[2:]))
    return recorded, None


def retry_later(
    queue: Queue, job: Job, delay: float, fields: dict[str, Any], *, now: float | None = None
) -> bool:
    """A failed attempt with retries left: active -> scheduled, due after `delay` seconds."""
    t = time.time() if now is None else now
    k = queue.keys
    flat: list[Any] = [
        "status", "scheduled", "due_at", repr(t + delay), "retries_left", max(job.retries_left - 1, 0),
        "attempt", job.attempt + 1,
    ]  # fmt: skip
    for key, value in fields.items():
        flat += [key, value]
    keys = [k.active, k.scheduled, k.job(job.id)]
    args = [job.id, repr(t + delay), job.worker or "", run_of(job), *flat]
    return bool(queue.scripts.retry(keys=keys, args=args))


def renew_leases(queue: Queue, job_ids: Sequence[str], *, now: float | None = None) -> None:
    """Heartbeat: push the lease of running jobs forward (XX: a recovered job is not re-added)."""
    if not job_ids:
        return
    t = time.time() if now is None else now
    deadline = t + queue.config.lease_ttl
    queue.connection.zadd(queue.keys.active, {i: deadline for i in job_ids}, xx=True)


def reap(queue: Queue, *, now: float | None = None, limit: int = 500) -> list[tuple[str, str]]:
    """Recover jobs whose lease expired: (id, "requeued" | "failed") for each."""
    t = time.time() if now is None else now
    k = queue.keys
    out = queue.scripts.reap(
        keys=[k.active, k.failed, k.queued, k.signal],
        args=[repr(t), limit, k.job_prefix, queue.config.default_failure_ttl, k.done_prefix],
    )
    return list(zip(out[::2], out[1::2], strict=True))
