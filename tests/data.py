"""Data the CLI tests share: a filled queue set, key digests, manifests and DB snapshots."""

from __future__ import annotations

import hashlib
from typing import Any

import redis

from scheduler_core.jobs.record import JobStatus
from scheduler_core.models import Task, TaskSet
from scheduler_core.queues.lifecycle import Outcome, claim, complete
from scheduler_core.queues.queue import JobCall, get_queue
from tests.cli import NOW
from tests.conftest import REDIS_URL


def fill(now: float = NOW) -> None:
    """default: 3 queued (oldest 125 s), 2 scheduled, 1 active, finished, failed, canceled;
    high: 1 queued an hour ago; low: empty. Fixed ids."""
    q = get_queue("default")

    def put(job_id: str, at: float, *args: Any, due: float | None = None) -> None:
        q.enqueue_call(JobCall("tests.jobs.add", args or (1, 2), job_id=job_id, at=due), now=at)

    put("job-finished", now - 300)
    job = claim(q, "w1", now=now - 290)
    assert job is not None
    complete(q, job, Outcome(JobStatus.FINISHED, {"result": "3"}), worker="w1", now=now - 280)
    put("job-failed", now - 270)
    job = claim(q, "w1", now=now - 265)
    assert job is not None
    fields = {
        "exc_type": "RuntimeError",
        "exc_message": "boom",
        "traceback": "Traceback...\nRuntimeError: boom",
    }
    complete(q, job, Outcome(JobStatus.FAILED, fields), worker="w1", now=now - 260)
    put("job-active", now - 200)
    assert claim(q, "w2", now=now - 190) is not None
    put("job-canceled", now - 150)
    assert q.cancel("job-canceled", now=now - 140)
    put("job-q1", now - 125, 10, 20)
    put("job-q2", now - 60, {"a": 1})
    put("job-q3", now - 5, "text")
    put("job-s1", now - 100, due=now + 3600)
    put("job-s2", now - 100, due=now + 7200)
    get_queue("high").enqueue_call(JobCall("tests.jobs.noop", job_id="job-h1"), now=now - 3700)


def digest(prefix: str) -> tuple[int, str]:
    """How many keys this test has, and a digest of them all (name, type and serialised value).
    (Not DBSIZE: other tests share the Redis DB.)"""
    r = redis.Redis.from_url(REDIS_URL)
    try:
        h = hashlib.sha256()
        keys = sorted(r.scan_iter(match=f"{prefix}:*", count=1000))
        for key in keys:
            h.update(key + b"\0" + r.type(key) + b"\0" + (r.dump(key) or b""))
        return len(keys), h.hexdigest()
    finally:
        r.close()


TASK = "  - {name: %s, type: cron, callable: tests.jobs.noop, cron: '0 3 * * *'}\n"


def manifest(set_name: str, *names: str, extra: str = "") -> str:
    return f"version: 1\nset: {set_name}\ntasks:\n" + "".join(TASK % n for n in names) + extra


def snapshot() -> list[dict[str, Any]]:
    """Every task and set row, as a comparable value."""
    rows: list[dict[str, Any]] = [dict(r) for r in Task.objects.order_by("name").values()]
    return rows + [dict(r) for r in TaskSet.objects.order_by("name").values()]
