"""A task's pending jobs in the broker: find them in `scheduled`, and take them back.

Jobs of task occurrences are named `task-<id>-<epoch seconds>` (job_id), so a task's
pending jobs are found by id prefix within the time range where the planner can have put them.
Only jobs still in `scheduled` are ever taken back: a job already queued or running is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from scheduler_core.broker.scripts import queue_call

if TYPE_CHECKING:
    from scheduler_core.queues.queue import Queue

_ID = re.compile(r"^task-(\d+)-\d+$")


def job_id(task_id: int, occurrence: datetime) -> str:
    """The deterministic id of one occurrence's job: `task-<id>-<epoch seconds>`."""
    return f"task-{task_id}-{int(occurrence.timestamp())}"


# Remove jobs from `scheduled` and drop their records, but only those still there (atomic per job).
# KEYS: 1 scheduled zset; ARGV: 1 job key prefix, 2.. ids. Returns how many were removed.
_UNSCHEDULE = """
local n = 0
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('DEL', ARGV[1] .. ARGV[i])
    n = n + 1
  end
end
return n
"""


def task_of(job_id: str) -> int | None:
    m = _ID.match(job_id)
    return int(m.group(1)) if m else None


def scheduled_jobs_of(
    queue: Queue, task_ids: Iterable[int], max_due: float | None = None
) -> dict[int, list[str]]:
    """Scheduled job ids of these tasks in `queue` (due at or before `max_due`; None: any)."""
    wanted = set(task_ids)
    if not wanted:
        return {}
    top = "+inf" if max_due is None else repr(max_due)
    out: dict[int, list[str]] = {}
    for raw in queue.connection.zrangebyscore(queue.keys.scheduled, "-inf", top):
        job_id = str(raw)
        tid = task_of(job_id)
        if tid is not None and tid in wanted:
            out.setdefault(tid, []).append(job_id)
    return out


def unschedule(queue: Queue, job_ids: list[str]) -> int:
    """Take these jobs back if they are still scheduled; returns how many were."""
    if not job_ids:
        return 0

    script = queue.connection.register_script(_UNSCHEDULE)
    # Batches of 500 ids keep each script call short; one pipeline sends them all in one round trip.
    pipe = queue.connection.pipeline(transaction=False)
    for i in range(0, len(job_ids), 500):
        queue_call(pipe, script, [queue.keys.scheduled], [queue.keys.job_prefix, *job_ids[i : i + 500]])
    return sum(int(n) for n in pipe.execute())
