"""The database is the source of truth: a broker that lost its data is refilled from the DB.

Each broker carries a marker key, `<prefix>:{<prefix>}:scheduler:epoch`, set once the scheduler has planned
into it. A missing marker means the broker is new, was flushed, or failed over to an empty
replica: every enabled task's pending occurrences (those planned, i.e. before `next_run_at`, or
all remaining ones when it is empty; and not yet run, i.e. after `last_run_at`) are enqueued again
under their deterministic ids, so nothing that survived is duplicated, and the marker is set.
Occurrences older than the grace follow the task's misfire policy (one catch-up for `run_once`,
none for `skip`). Enabled tasks that were never planned (written without `tasks_changed`) get
their first `next_run_at` here too.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import cast

from django.db.models import Q

from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import SchedulerConfig
from scheduler_core.errors import TaskctlError
from scheduler_core.models import Task
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.scheduler.planner import enqueue_grouped, job_call, take_back
from scheduler_core.tasks import replan
from scheduler_core.tasks.horizon import grace
from scheduler_core.tasks.row import FIELDS, TaskRow, first_after, iter_after, task_zone

log = logging.getLogger("taskctl.scheduler")

CHUNK = 2000
MAX_PENDING = 1000  # occurrences re-enqueued per task at most


def marker_key(config: SchedulerConfig) -> str:
    return GlobalKeys(config.key_prefix).scheduler_epoch


def brokers(config: SchedulerConfig) -> dict[str, list[str]]:
    """Broker URL -> the queue names it holds."""
    out: dict[str, list[str]] = defaultdict(list)
    for name, qc in config.queues.items():
        out[qc.broker_url].append(name)
    return dict(out)


def lost_queues(config: SchedulerConfig) -> dict[str, list[str]]:
    """The brokers (URL -> queue names) whose marker is missing: one EXISTS per broker."""
    key = marker_key(config)
    return {
        url: names for url, names in brokers(config).items() if not get_queue(names[0]).connection.exists(key)
    }


def mark(config: SchedulerConfig, url: str, now: datetime) -> None:
    names = brokers(config)[url]
    get_queue(names[0]).connection.set(marker_key(config), repr(now.timestamp()))


def pending_jobs(row: TaskRow, now: datetime, g: timedelta, tz_name: str) -> list[tuple[datetime, datetime]]:
    """(occurrence, due) of the occurrences of `row` planned but not yet run, misfire applied."""
    nxt: datetime | None = row["next_run_at"]  # None: every remaining occurrence was planned
    last: datetime | None = row["last_run_at"]
    floor = now - g
    start = max(last, floor) if last is not None else floor
    jobs: list[tuple[datetime, datetime]] = []
    if row["misfire"] == "run_once" and last is not None:
        missed = first_after(row, last, tz_name)
        if missed is not None and missed <= floor and (nxt is None or missed < nxt):
            jobs.append((missed, now))
    for occ in iter_after(row, start, tz_name):
        if (nxt is not None and occ >= nxt) or len(jobs) >= MAX_PENDING:
            break
        jobs.append((occ, occ))
    return jobs


def recover(queue_names: list[str], now: datetime, config: SchedulerConfig) -> int:
    """Refill the broker holding `queue_names` from the DB; returns the jobs handed over."""
    g = grace(config)
    fresh = list(
        Task.objects.filter(
            enabled=True, next_run_at__isnull=True, occurrences=0, queue__in=queue_names
        ).values_list("pk", flat=True)
    )
    if fresh:
        replan.tasks_changed(fresh, now=now)

    planned = Q(next_run_at__isnull=False) | Q(occurrences__gt=0)
    qs = Task.objects.filter(planned, enabled=True, queue__in=queue_names).order_by("pk")
    total = 0
    rows: list[TaskRow] = []
    for row in qs.values(*FIELDS).iterator(chunk_size=CHUNK):
        rows.append(cast("TaskRow", row))
        if len(rows) >= CHUNK:
            total += _refill(rows, now, g)
            rows = []
    total += _refill(rows, now, g)
    level = logging.WARNING if total else logging.INFO
    log.log(
        level, "broker had no scheduler marker (new, flushed or failed over): %d job(s) re-planned", total
    )
    return total


def _refill(rows: list[TaskRow], now: datetime, g: timedelta) -> int:
    if not rows:
        return 0
    calls: dict[str, list[JobCall]] = defaultdict(list)
    planned: dict[int, tuple[str, list[str]]] = {}
    for row in rows:
        try:
            get_queue(row["queue"])
            batch = [
                job_call(row, occ, due) for occ, due in pending_jobs(row, now, g, task_zone(row["timezone"]))
            ]
        except TaskctlError as exc:
            log.warning("task %s: not re-planned: %s", row["id"], exc)
            continue
        calls[row["queue"]].extend(batch)
        planned[row["id"]] = (row["queue"], [c.job_id or "" for c in batch])
    n = enqueue_grouped(calls, now.timestamp())
    now_hash = dict(Task.objects.filter(pk__in=[r["id"] for r in rows]).values_list("pk", "spec_hash"))
    changed = [r["id"] for r in rows if now_hash.get(r["id"]) != r["spec_hash"]]
    if changed:
        take_back(changed, planned)
    return n
