"""Occurrences planned before a downtime and missed during it follow their task's misfire policy.

The scheduler plans up to LOOKAHEAD seconds ahead, so when the workers and the scheduler stop, the
jobs of the next occurrences already wait in `scheduled`. Coming back, each pass first looks at
task occurrences due more than the grace ago (`SchedulerConfig.misfire_grace`) before anything
promotes them:

- `misfire: skip`: they are dropped (the planner goes on from the next future occurrence);
- `misfire: run_once`: the latest one is kept as the one catch-up, unless the task's own
  `next_run_at` is missed too, in which case the planner makes the catch-up and all are dropped.

A retry (attempt > 1) is never dropped: its occurrence already started. Workers leave such
occurrences alone (`Queue.promote_due(hold_tasks_before=...)`), so this runs before they move.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scheduler_core.conf import SchedulerConfig
from scheduler_core.models import Misfire, Task
from scheduler_core.tasks.pending import task_of, unschedule

if TYPE_CHECKING:
    from scheduler_core.queues.queue import Queue

log = logging.getLogger("taskctl.scheduler")
SCAN = 10_000  # missed entries looked at per queue and pass


def drop_missed(queues: list[Queue], now: datetime, config: SchedulerConfig) -> int:
    """Apply the misfire policy to missed occurrences in every queue; returns how many were dropped."""
    cutoff = now.timestamp() - config.misfire_grace
    found: dict[int, list[tuple[float, Queue, str]]] = {}
    for q in queues:
        entries: list[tuple[str, float]] = q.connection.zrangebyscore(  # type: ignore[assignment]
            q.keys.scheduled, "-inf", f"({cutoff!r}", 0, SCAN, withscores=True
        )
        ids = [(str(raw), float(score)) for raw, score in entries if task_of(str(raw)) is not None]
        if not ids:
            continue
        pipe = q.connection.pipeline(transaction=False)
        for job_id, _ in ids:
            pipe.hget(q.keys.job(job_id), "attempt")
        for (job_id, score), attempt in zip(ids, pipe.execute(), strict=True):
            if int(attempt or 1) <= 1:  # a retry keeps its place
                found.setdefault(task_of(job_id) or 0, []).append((score, q, job_id))
    if not found:
        return 0
    rows = dict(
        (pk, (misfire, nxt))
        for pk, misfire, nxt in Task.objects.filter(pk__in=list(found)).values_list(
            "pk", "misfire", "next_run_at"
        )
    )
    late = now - timedelta(seconds=config.misfire_grace)
    drop: dict[str, tuple[Queue, list[str]]] = {}
    for pk, jobs in found.items():
        jobs.sort(key=lambda j: j[0])
        misfire, nxt = rows.get(pk, (Misfire.SKIP, None))
        if misfire == Misfire.RUN_ONCE and (nxt is None or nxt >= late):
            jobs = jobs[:-1]  # the latest missed occurrence is the catch-up
        for _, q, job_id in jobs:
            drop.setdefault(q.name, (q, []))[1].append(job_id)
    dropped = sum(unschedule(q, ids) for q, ids in drop.values())
    if dropped:
        log.info("dropped %d occurrence(s) missed during downtime (misfire policy)", dropped)
    return dropped


__all__ = ["drop_missed"]
