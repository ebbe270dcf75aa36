"""Read-only views for operators: queue statistics, job details and task rows. Nothing here writes.

Queue statistics cost ONE pipelined round trip per broker, whatever the number of queues or jobs:
per queue the six registry sizes (ZCARD / LLEN / ZCOUNT of unexpired entries) and the head of
`queued` with its `enqueued_at` (one `SORT_RO queued BY nosort LIMIT 0 1 GET <job>*->enqueued_at`,
which Redis answers from the first list element only); per broker the live workers (ZRANGEBYSCORE
of the workers ZSET) and every worker's queue list (`SORT_RO workers BY nosort GET # GET
<worker>:*->queues`). No expired entry is pruned and no key is touched: inspection never writes.
The round trip goes through `broker.oneshot`, not redis-py, where the URL allows: `queues show`
is mostly start-up, and importing redis-py would be a third of it.

A Redis Cluster refuses SORT ... GET, so there the head of `queued` and the worker records are read
by two small read-only scripts instead (`HEAD_SCRIPT`, `WORKERS_SCRIPT`): each touches one slot,
its queue's or the cross-queue one, and the round trip is one per node.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scheduler_core.broker.keys import REGISTRIES, GlobalKeys, QueueKeys
from scheduler_core.errors import BrokerUnavailable

if TYPE_CHECKING:
    from scheduler_core.broker.oneshot import Command
    from scheduler_core.conf import QueueConfig, SchedulerConfig
    from scheduler_core.models import Task

clock: Callable[[], float] = time.time  # tests replace it with a fixed clock


@contextmanager
def broker_errors(url: str | None = None) -> Iterator[None]:
    """Turn a refused / timed-out broker connection into BrokerUnavailable (exit 69), one line."""
    from scheduler_core.broker.connection import outage_errors

    try:
        yield
    except outage_errors() as exc:
        from scheduler_core.broker.connection import mask_url

        where = f"broker {mask_url(url)}" if url else "broker"
        raise BrokerUnavailable(f"{where} unreachable: {exc}") from None


# ----- queues -----
@dataclass
class QueueSnapshot:
    """One reading of `queues show`: a row per queue and the totals (workers counted once)."""

    queues: list[dict[str, Any]]
    totals: dict[str, Any]
    taken_at: float
    workers: set[str] = field(default_factory=set)


def _worker_queues(raw: str | None) -> list[str]:
    """A worker record's queue list: JSON array or comma-separated (whichever the worker wrote)."""
    if not raw:
        return []
    raw = raw.strip()
    if raw.startswith("["):
        from scheduler_core.jobs.record import loads

        value = loads(raw)
        return [str(v) for v in value] if isinstance(value, list) else []
    return [q.strip() for q in raw.split(",") if q.strip()]


def _is_unknown_command(reply: Any) -> bool:
    return isinstance(reply, Exception) and "unknown command" in str(reply).lower()


# The Cluster forms of the two SORT ... GET commands, with the same replies.
HEAD_SCRIPT = (
    "local id = redis.call('LINDEX', KEYS[1], 0) if not id then return {} end "
    "return {redis.call('HGET', ARGV[1] .. id, 'enqueued_at')}"
)
WORKERS_SCRIPT = (
    "local out = {} for _, name in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do "
    "table.insert(out, name) table.insert(out, redis.call('HGET', ARGV[1] .. name, 'queues')) end "
    "return out"
)


def _commands(queues: Sequence[QueueConfig], config: SchedulerConfig, now: float, sort: str) -> list[Command]:
    """The round trip's commands: per queue its six counts and the head of `queued` with its
    `enqueued_at`; then the broker's live workers and every worker's queue list. `sort` is
    SORT_RO, SORT, or EVAL on a Cluster."""
    g = GlobalKeys(config.key_prefix)
    commands: list[Command] = []
    for q in queues:
        k = QueueKeys(config.key_prefix, q.name)
        commands += k.count_commands(now)
        if sort == "EVAL":
            commands.append(("EVAL", HEAD_SCRIPT, 1, k.queued, k.job_prefix))
        else:
            head = k.job_prefix + "*->enqueued_at"
            commands.append((sort, k.queued, "BY", "nosort", "LIMIT", 0, 1, "GET", head))
    commands.append(("ZRANGEBYSCORE", g.workers, repr(now - config.lease_ttl), "+inf"))
    if sort == "EVAL":
        commands.append(("EVAL", WORKERS_SCRIPT, 1, g.workers, g.worker_prefix))
    else:
        commands.append((sort, g.workers, "BY", "nosort", "GET", "#", "GET", g.worker("*") + "->queues"))
    return commands


def _send(url: str, commands: list[Command], config: SchedulerConfig) -> list[Any]:
    """Every reply to `commands`, in one round trip (an error reply in its place)."""
    from scheduler_core.broker import oneshot

    if oneshot.supported(url):
        return oneshot.execute(url, commands, config.connect_timeout)
    from scheduler_core.broker.connection import get_client  # TLS: redis-py

    with broker_errors(url):
        pipe = get_client(url, config.connect_timeout).pipeline(transaction=False)
        for c in commands:
            pipe.execute_command(*c)  # type: ignore[no-untyped-call]
        replies: list[Any] = pipe.execute(raise_on_error=False)
    return replies


def _read_broker(queues: Sequence[QueueConfig], config: SchedulerConfig, now: float) -> list[Any]:
    """Every reply for `queues` (all on one broker) from one pipelined round trip."""
    from scheduler_core.broker.connection import is_cluster_url

    url = queues[0].broker_url
    replies = _send(url, _commands(queues, config, now, "EVAL" if is_cluster_url(url) else "SORT_RO"), config)
    if any(_is_unknown_command(r) for r in replies):  # a server older than Redis 7
        replies = _send(url, _commands(queues, config, now, "SORT"), config)
    for r in replies:
        if isinstance(r, Exception):
            raise r
    return replies


def _broker_rows(
    queues: Sequence[QueueConfig], config: SchedulerConfig, now: float
) -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    """Rows of `queues` (one broker) and, from that broker's worker records, queue -> live workers."""
    from scheduler_core.broker.connection import mask_url

    url = queues[0].broker_url
    replies = _read_broker(queues, config, now)
    alive = set(replies[-2])
    flat = replies[-1]
    serving: dict[str, set[str]] = {}
    for name, raw in zip(flat[0::2], flat[1::2], strict=True):
        if name in alive:
            for qname in _worker_queues(raw):
                serving.setdefault(qname, set()).add(name)
    rows: list[dict[str, Any]] = []
    per_queue = len(REGISTRIES) + 1
    for i, q in enumerate(queues):
        chunk = replies[i * per_queue : (i + 1) * per_queue]
        row: dict[str, Any] = {"name": q.name}
        row.update(zip(REGISTRIES, (int(n) for n in chunk[:-1]), strict=True))
        head = chunk[-1]
        enqueued = head[0] if head else None
        row["workers"] = 0  # filled in by queue_stats, from every broker's worker records
        row["oldest_queued_age"] = round(max(0.0, now - float(enqueued)), 3) if enqueued else None
        row["broker"] = mask_url(url)
        rows.append(row)
    return rows, serving


def queue_stats(names: Sequence[str] = (), *, now: float | None = None) -> QueueSnapshot:
    """Statistics of the named queues (all configured ones when none): read-only, one round trip
    per broker. An unknown name is UnknownQueue (exit 3) before anything is read.

    Works from the configuration alone (no Queue objects): the CLI reaches here without redis-py."""
    from scheduler_core.conf import get_config

    config = get_config()
    queues = [config.queue(n) for n in (dict.fromkeys(names) if names else config.queues)]
    t = clock() if now is None else now
    by_broker: dict[str, list[QueueConfig]] = {}
    for q in queues:
        by_broker.setdefault(q.broker_url, []).append(q)
    rows: dict[str, dict[str, Any]] = {}
    serving: dict[str, set[str]] = {}  # a worker may register on another broker than its queues
    for group in by_broker.values():
        got, here = _broker_rows(group, config, t)
        rows.update((r["name"], r) for r in got)
        for qname, found in here.items():
            serving.setdefault(qname, set()).update(found)
    ordered = [rows[q.name] for q in queues]
    workers: set[str] = set()
    for r in ordered:
        serving_r = serving.get(r["name"], set())
        r["workers"] = len(serving_r)
        workers |= serving_r
    totals: dict[str, Any] = {"name": "total"}
    for reg in REGISTRIES:
        totals[reg] = sum(r[reg] for r in ordered)
    totals["workers"] = len(workers)
    ages = [r["oldest_queued_age"] for r in ordered if r["oldest_queued_age"] is not None]
    totals["oldest_queued_age"] = max(ages) if ages else None
    return QueueSnapshot(queues=ordered, totals=totals, taken_at=t, workers=workers)


# ----- jobs -----
def job_detail(
    job_id: str, queue: str | None = None, *, name_of_task: Callable[[int], str | None] | None = None
) -> dict[str, Any]:
    """A job as plain data, with the registry that holds it and its task's name when known.

    `name_of_task` looks the name up (default: `task_name`); only a job made by a task asks it."""
    from scheduler_core.queues.queue import find_job, get_queue

    with broker_errors(get_queue(queue).broker_url if queue else None):
        job = find_job(job_id, queue)
        registry = get_queue(job.queue).registry_of(job_id)
    out = job.to_dict()
    out["registry"] = registry
    lookup = name_of_task or task_name
    out["task"] = lookup(job.task_id) if job.task_id is not None else None
    return out


def task_name(task_id: int) -> str | None:
    """The task's name from the DB, or None when the DB cannot say (jobs commands need no DB)."""
    try:
        from django.db import DatabaseError

        from scheduler_core.models import Task
    except Exception:
        return None
    try:
        return Task.objects.filter(pk=task_id).values_list("name", flat=True).first()
    except DatabaseError:
        return None


# ----- tasks -----
def get_task(name: str) -> Task:
    from scheduler_core.tasks.lookup import find_task

    return find_task(name)


def _schedule_words(task: Task) -> str:
    from scheduler_core.tasks.schedules import describe_schedule

    return describe_schedule(
        task.type,
        cron=task.cron,
        tz_name=task.effective_timezone(),
        interval=task.interval,
        repeat=task.repeat,
        at=task.at,
    )


def task_row(task: Task) -> dict[str, Any]:
    """One line of `tasks list`."""
    return {
        "name": task.name,
        "type": task.type,
        "schedule": _schedule_words(task),
        "timezone": task.effective_timezone(),
        "queue": task.queue,
        "enabled": task.enabled,
        "set": task.task_set.name if task.task_set_id is not None else None,  # type: ignore[union-attr]
        "next_run_at": task.next_run_at,
        "last_run_at": task.last_run_at,
        "last_status": task.last_status or None,
        "invalid_reason": task.invalid_reason or None,  # why the scheduler quarantined it
    }


def task_rows() -> list[dict[str, Any]]:
    from scheduler_core.models import Task

    return [task_row(t) for t in Task.objects.select_related("task_set").order_by("name")]


def task_detail(name: str) -> dict[str, Any]:
    """`tasks show`: the spec (what was declared) and the status (what the scheduler observed)."""
    task = get_task(name)
    status: dict[str, datetime | int | str | None] = {
        "next_run_at": task.next_run_at,
        "pending_job_id": task.pending_job_id or None,
        "occurrences": task.occurrences,
        "last_run_at": task.last_run_at,
        "last_status": task.last_status or None,
        "run_count": task.run_count,
        "success_count": task.success_count,
        "failure_count": task.failure_count,
        "invalid_reason": task.invalid_reason or None,  # set: quarantined, not planned until fixed
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }
    return {
        "name": task.name,
        "set": task.task_set.name if task.task_set_id is not None else None,  # type: ignore[union-attr]
        "schedule": _schedule_words(task),
        "spec": task.spec(),
        "status": status,
    }


def job_page(
    queue: str, registry: str, *, offset: int = 0, limit: int = 50, now: float | None = None
) -> tuple[list[dict[str, Any]], int]:
    """One page of a registry's jobs as plain data, and the registry's size (unexpired entries)."""
    from scheduler_core.queues.queue import get_queue

    q = get_queue(queue)
    t = clock() if now is None else now
    with broker_errors(q.broker_url):
        jobs = q.fetch_many(q.job_ids(registry, offset=offset, limit=limit, now=t))
        total = q.count(registry, now=t)
    return [j.to_dict() for j in jobs], total
