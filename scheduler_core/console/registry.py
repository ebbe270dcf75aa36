"""A registry's job list (one page at a time) and the actions on its jobs.

A page reads one window of ids (LRANGE / ZRANGE / ZREVRANGEBYSCORE with an offset) and the records
of those ids only, so its cost does not grow with the registry. A filter (callable, task) reads
windows from the offset on until the page is full or SCAN_LIMIT ids were looked at, and says where
the next page starts: a filtered page never reads the whole registry either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scheduler_core import inspect
from scheduler_core.broker.keys import REGISTRIES
from scheduler_core.errors import InvalidInput, TaskctlError
from scheduler_core.inspect import broker_errors
from scheduler_core.jobs import actions as job_actions
from scheduler_core.jobs.record import Job
from scheduler_core.queues.queue import get_queue

PAGE_SIZES = (25, 50, 100)
SCAN_LIMIT = 2_000  # ids a filtered page looks at, at most
_CHUNK = 250

# What can be done to a job, by the registry that holds it.
ACTIONS: dict[str, tuple[str, ...]] = {
    "scheduled": ("cancel", "delete"),
    "queued": ("cancel", "delete"),
    "active": ("stop",),
    "finished": ("delete",),
    "failed": ("requeue", "delete"),
    "canceled": ("requeue", "delete"),
}
# What can be done to a whole registry at once.
WHOLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "scheduled": ("empty",),
    "queued": ("empty",),
    "active": (),
    "finished": ("empty",),
    "failed": ("requeue_all", "empty"),
    "canceled": ("requeue_all", "empty"),
}
ACTION_LABELS = {
    "requeue": "Requeue",
    "cancel": "Cancel",
    "stop": "Stop",
    "delete": "Delete",
    "requeue_all": "Requeue all",
    "empty": "Empty the registry",
}
_JOB_ACTIONS: dict[str, Callable[[str, str | None], Job]] = {
    "requeue": job_actions.requeue,
    "cancel": job_actions.cancel,
    "stop": job_actions.stop,
    "delete": job_actions.delete,
}


@dataclass
class Filters:
    callable: str = ""  # a substring of the dotted path
    task_id: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.callable) or self.task_id is not None

    def match(self, job: Job) -> bool:
        if self.callable and self.callable not in job.callable:
            return False
        return self.task_id is None or job.task_id == self.task_id


@dataclass
class Page:
    queue: str
    registry: str
    jobs: list[dict[str, Any]]
    total: int  # the registry's size (unexpired entries)
    offset: int
    limit: int
    next_offset: int | None  # where the next page starts, None at the end
    scanned_to: int  # position after the last id looked at
    actions: tuple[str, ...] = field(default=())
    whole_actions: tuple[str, ...] = field(default=())


def check_registry(registry: str) -> str:
    if registry not in REGISTRIES:
        raise InvalidInput(f"unknown registry {registry!r} (one of: {', '.join(REGISTRIES)})")
    return registry


def registry_page(
    queue: str,
    registry: str,
    *,
    offset: int = 0,
    limit: int = 50,
    filters: Filters | None = None,
    now: float | None = None,
) -> Page:
    """One page of `registry` in `queue`, newest terminal jobs first (see Queue.job_ids)."""
    check_registry(registry)
    q = get_queue(queue)
    t = inspect.clock() if now is None else now
    offset = max(0, offset)
    filters = filters or Filters()
    with inspect.broker_errors(q.broker_url):
        total = q.count(registry, now=t)
        if not filters.active:
            jobs = q.fetch_many(q.job_ids(registry, offset=offset, limit=limit, now=t))
            end = offset + limit
            nxt = end if end < total else None
            return Page(queue, registry, [j.to_dict() for j in jobs], total, offset, limit, nxt,
                        min(end, total), ACTIONS[registry], WHOLE_ACTIONS[registry])  # fmt: skip
        found: list[dict[str, Any]] = []
        pos = offset
        while len(found) < limit and pos - offset < SCAN_LIMIT:
            ids = q.job_ids(registry, offset=pos, limit=_CHUNK, now=t)
            if not ids:
                break
            for job in _records(q, ids):
                pos += 1
                if job is not None and filters.match(job):
                    found.append(job.to_dict())
                    if len(found) == limit:
                        break
            else:
                continue
            break
    nxt = pos if pos < total else None
    return Page(queue, registry, found, total, offset, limit, nxt, pos, ACTIONS[registry],
                WHOLE_ACTIONS[registry])  # fmt: skip


def _records(q: Any, ids: list[str]) -> list[Job | None]:
    """The records of `ids` in their order (None where one expired since the ids were read)."""
    by_id = {j.id: j for j in q.fetch_many(ids)}
    return [by_id.get(i) for i in ids]


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # id, why


def act_on_jobs(action: str, queue: str, ids: list[str]) -> Outcome:
    """Apply one job action to each id; a job the action does not fit is skipped with the reason."""
    try:
        act = _JOB_ACTIONS[action]
    except KeyError:
        raise InvalidInput(f"unknown job action {action!r}") from None
    out = Outcome()
    for job_id in dict.fromkeys(ids):
        try:
            act(job_id, queue)
        except TaskctlError as exc:
            out.skipped.append((job_id, str(exc)))
        else:
            out.done.append(job_id)
    return out


def act_on_registry(action: str, queue: str, registry: str) -> int:
    """`requeue_all` or `empty` a whole registry; returns how many jobs moved or went."""
    check_registry(registry)
    if action not in WHOLE_ACTIONS[registry]:
        raise InvalidInput(f"{action!r} does not apply to the {registry} registry")
    q = get_queue(queue)
    with broker_errors(q.broker_url):
        return q.requeue_all(registry) if action == "requeue_all" else q.clear(registry)
