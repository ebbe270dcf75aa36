"""A task's recent runs for its admin page: its jobs among the newest entries of its queue's
registries. A task's job ids start with `task-<pk>-` (planned occurrences and `tasks run` alike),
so the ids alone say which entries are its own; only those records are read. The look is bounded
(WINDOW newest ids per registry), so a busy queue costs the same as a quiet one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scheduler_core import inspect
from scheduler_core.broker.keys import TERMINAL
from scheduler_core.queues.queue import get_queue

WINDOW = 1_000
_FAR_PAST = datetime.min.replace(tzinfo=UTC)


def recent_runs(
    task_id: int, queue: str, *, limit: int = 10, now: float | None = None
) -> list[dict[str, Any]]:
    """Up to `limit` jobs of task `task_id` in `queue` (running, ended or waiting), newest first,
    each with the registry that holds it."""
    q = get_queue(queue)
    k = q.keys
    t = inspect.clock() if now is None else now
    prefix = f"task-{task_id}-"
    with inspect.broker_errors(q.broker_url):
        pipe = q.connection.pipeline(transaction=False)
        pipe.zrange(k.active, 0, WINDOW - 1)
        pipe.zrange(k.scheduled, 0, WINDOW - 1)
        pipe.lrange(k.queued, 0, WINDOW - 1)
        for name in TERMINAL:
            pipe.zrevrangebyscore(k.registry(name), "+inf", f"({t}", start=0, num=WINDOW)
        replies = pipe.execute()
        where: dict[str, str] = {}
        for name, ids in zip(("active", "scheduled", "queued", *TERMINAL), replies, strict=True):
            for i in ids:
                if i.startswith(prefix):
                    where.setdefault(i, name)
        jobs = q.fetch_many(list(where))
    rows = []
    for job in jobs:
        row = job.to_dict()
        row["registry"] = where[job.id]
        rows.append(row)

    def newest(r: dict[str, Any]) -> datetime:
        return r["ended_at"] or r["started_at"] or r["enqueued_at"] or r["due_at"] or _FAR_PAST

    rows.sort(key=newest, reverse=True)
    return rows[:limit]
