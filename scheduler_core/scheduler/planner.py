"""Tasks -> jobs: one indexed query for the tasks due within the look-ahead, their occurrences
enqueued as scheduled jobs (deterministic ids, idempotent), and `next_run_at` advanced with a
conditional bulk UPDATE (a few statements per 500 due tasks; never a re-save of every task).

The UPDATE only takes where the task's `next_run_at` and `spec_hash` are still what the pass read:
a task edited meanwhile keeps its new state, and the jobs this pass planned for its old spec are
taken back and the task is re-planned.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, DateTimeField, F, IntegerField, Value, When

from scheduler_core.conf import SchedulerConfig
from scheduler_core.errors import InvalidInput, TaskctlError
from scheduler_core.jobs.record import Retry
from scheduler_core.models import Task
from scheduler_core.queues.queue import JobCall, Queue, get_queue
from scheduler_core.scheduler.occurrences import TaskPlan, plan_task
from scheduler_core.scheduler.quarantine import rechecking, record, row_problem
from scheduler_core.tasks import replan
from scheduler_core.tasks.horizon import grace, note_reach
from scheduler_core.tasks.pending import job_id, unschedule
from scheduler_core.tasks.row import FIELDS, TaskRow, task_zone

log = logging.getLogger("taskctl.scheduler")

BATCH = 500  # tasks per UPDATE on databases without UPDATE ... FROM (VALUES ...)
MAX_TASKS_PER_PASS = 5000


def job_call(row: TaskRow, occurrence: datetime, due: datetime) -> JobCall:
    """The job of one occurrence of a task."""
    retry = Retry(row["retry_max"], tuple(row["retry_backoff"] or (0,))) if row["retry_max"] else None
    return JobCall(
        func=row["callable"], args=row["args"] or (), kwargs=row["kwargs"] or {},
        job_id=job_id(row["id"], occurrence), at=due, timeout=row["timeout"],
        result_ttl=row["result_ttl"], failure_ttl=row["failure_ttl"], at_front=row["at_front"],
        retry=retry, on_success=row["on_success"], on_failure=row["on_failure"],
        on_stopped=row["on_stopped"], task_id=row["id"], occurrence=occurrence,
    )  # fmt: skip


def enqueue_grouped(
    calls: dict[str, list[JobCall]], now: float, refused: dict[int, str] | None = None
) -> int:
    """Enqueue jobs queue by queue (one pipelined script call per 500 jobs); returns how many.

    A batch the queue refuses as invalid (one job it cannot take) is sent again job by job, so
    that one bad task stops nothing else; the tasks refused land in `refused` {task id: reason}."""
    n = 0
    for name, batch in calls.items():
        if not batch:
            continue
        queue = get_queue(name)
        try:
            # now, whatever the caller's transaction (the pass records the plan after) or EAGER
            queue.enqueue_many(batch, now=now, on_commit=False, eager=False)
            n += len(batch)
            continue
        except InvalidInput:
            pass
        for call in batch:
            try:
                queue.enqueue_many([call], now=now, on_commit=False, eager=False)
                n += 1
            except InvalidInput as exc:
                if refused is not None and call.task_id is not None:
                    refused[call.task_id] = str(exc)
    return n


@dataclass
class PlanOutcome:
    tasks: int = 0  # due tasks looked at
    jobs: int = 0  # jobs handed to the broker
    skipped: int = 0  # occurrences skipped (misfire / overlap)
    conflicts: list[int] = field(default_factory=list)  # tasks edited during the pass, re-planned
    wake_at: datetime | None = None  # earliest moment a task of this pass needs planning again
    more: bool = False  # the pass stopped at MAX_TASKS_PER_PASS: plan again at once


@dataclass
class _Advance:
    pk: int
    was: datetime | None  # next_run_at as read
    spec_hash: str
    next_run_at: datetime | None
    planned: int
    last_job: str


def due_rows(now: datetime, horizon: datetime, limit: int = MAX_TASKS_PER_PASS) -> list[TaskRow]:
    """The enabled tasks whose next occurrence is at or before `horizon`: one indexed query."""
    qs = Task.objects.filter(enabled=True, next_run_at__lte=horizon).order_by("next_run_at")
    return list(qs.values(*FIELDS)[:limit])


def busy_tasks(rows: Sequence[TaskRow], now: datetime) -> set[int]:
    """Overlap-skip tasks that are due and whose previous job still waits or runs."""
    busy: set[int] = set()
    for row in rows:
        nxt = row["next_run_at"]
        if row["overlap"] != "skip" or not row["pending_job_id"] or nxt is None or nxt > now:
            continue
        try:
            where = get_queue(row["queue"]).registry_of(row["pending_job_id"])
        except TaskctlError:
            continue
        if where in ("scheduled", "queued", "active"):
            busy.add(row["id"])
    return busy


def _values_batch(connection: Any) -> int:
    """Tasks per UPDATE ... FROM (VALUES ...): a whole pass, unless an old SQLite allows fewer
    parameters (999 before 3.32)."""
    if connection.vendor != "sqlite":
        return MAX_TASKS_PER_PASS

    connection.ensure_connection()
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return max(1, min(MAX_TASKS_PER_PASS, int(limit) // 6))


def plan_due(now: datetime, config: SchedulerConfig) -> PlanOutcome:
    """Plan every task due within the look-ahead. Query count: 1 read + 1 UPDATE (SQLite, PostgreSQL)."""
    lookahead = timedelta(seconds=config.lookahead)
    horizon = now + lookahead
    g = grace(config)
    rows = due_rows(now, horizon)
    out = PlanOutcome(tasks=len(rows), more=len(rows) >= MAX_TASKS_PER_PASS)
    rechecking(rows)
    bad: dict[int, str] = {}
    was = {row["id"]: row["invalid_reason"] for row in rows if row["invalid_reason"]}
    healthy = []
    for row in rows:
        problem = row_problem(row, config, task_zone(row["timezone"]))
        if problem is None:
            healthy.append(row)
        else:
            bad[row["id"]] = problem
    busy = busy_tasks(healthy, now)
    calls: dict[str, list[JobCall]] = defaultdict(list)
    advances: list[_Advance] = []
    planned_ids: dict[int, tuple[str, list[str]]] = {}
    for row in healthy:
        try:
            plan = plan_task(row, now=now, horizon=horizon, grace=g, tz_name=task_zone(row["timezone"]),
                             busy=row["id"] in busy)  # fmt: skip
        except TaskctlError as exc:
            bad[row["id"]] = str(exc)
            continue
        out.skipped += plan.skipped
        _note_wake(out, row, plan, lookahead)
        if plan.deferred:
            continue
        batch = [job_call(row, occ, due) for occ, due in plan.jobs]
        calls[row["queue"]].extend(batch)
        ids = [c.job_id or "" for c in batch]
        planned_ids[row["id"]] = (row["queue"], ids)
        last = ids[-1] if ids else row["pending_job_id"]
        advances.append(
            _Advance(row["id"], row["next_run_at"], row["spec_hash"], plan.next_run_at, len(ids), last)
        )
    refused: dict[int, str] = {}
    out.jobs = enqueue_grouped(calls, now.timestamp(), refused)
    if refused:  # what the queue itself refused is not advanced: it is quarantined
        bad.update(refused)
        advances = [a for a in advances if a.pk not in refused]
    record(bad, [row["id"] for row in rows if row["id"] not in bad], was)
    if out.jobs:
        note_reach(config, horizon)
    out.conflicts = advance(advances)
    if out.conflicts:
        take_back(out.conflicts, planned_ids)
    return out


def _note_wake(out: PlanOutcome, row: TaskRow, plan: TaskPlan, lookahead: timedelta) -> None:
    nxt = plan.next_run_at
    if nxt is None:
        return
    at = nxt if row["overlap"] == "skip" else nxt - lookahead
    if out.wake_at is None or at < out.wake_at:
        out.wake_at = at


def advance(items: Sequence[_Advance]) -> list[int]:
    """Move next_run_at / occurrences / pending_job_id forward where the task is unchanged since
    it was read; returns the ids of tasks that changed meanwhile (their update did not take)."""
    conflicts: list[int] = []
    values = connection.vendor in ("postgresql", "sqlite")
    # A VALUES list holds a whole pass (6 parameters a task, 30,000 at most: under SQLite's 32,766
    # and PostgreSQL's 65,535), so a pass costs one UPDATE however many tasks are due.
    size = _values_batch(connection) if values else BATCH
    for i in range(0, len(items), size):
        chunk = items[i : i + size]
        done = _update_from_values(chunk) if values else _update_with_case(chunk)
        if done < len(chunk):
            ids = [a.pk for a in chunk]
            rows = Task.objects.filter(pk__in=ids).values_list("pk", "next_run_at", "spec_hash")
            now = {r[0]: r[1:] for r in rows}
            conflicts += [a.pk for a in chunk if now.get(a.pk) != (a.next_run_at, a.spec_hash)]
    return conflicts


def _update_from_values(chunk: Sequence[_Advance]) -> int:
    """One `UPDATE ... FROM (VALUES ...)` statement (PostgreSQL; SQLite >= 3.33)."""
    ops, q = connection.ops, connection.ops.quote_name
    pg = connection.vendor == "postgresql"
    row = (
        "(%s::bigint, %s::timestamptz, %s::text, %s::timestamptz, %s::int, %s::text)"
        if pg
        else "(%s, %s, %s, %s, %s, %s)"
    )
    params: list[Any] = []
    for a in chunk:
        params += [a.pk, ops.adapt_datetimefield_value(a.was), a.spec_hash,
                   ops.adapt_datetimefield_value(a.next_run_at), a.planned, a.last_job]  # fmt: skip
    t = q(Task._meta.db_table)
    sql = (
        f"UPDATE {t} SET {q('next_run_at')} = v.column4, "
        f"{q('occurrences')} = {t}.{q('occurrences')} + v.column5, "
        f"{q('pending_job_id')} = v.column6 FROM (VALUES {', '.join([row] * len(chunk))}) AS v "
        f"WHERE {t}.{q('id')} = v.column1 AND {t}.{q('next_run_at')} = v.column2 "
        f"AND {t}.{q('spec_hash')} = v.column3"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _update_with_case(chunk: Sequence[_Advance]) -> int:
    """The portable form (other databases): CASE expressions, one statement."""
    dt, it, ch = DateTimeField(), IntegerField(), CharField()
    was = Case(*[When(pk=a.pk, then=Value(a.was, output_field=dt)) for a in chunk], output_field=dt)
    spec = Case(*[When(pk=a.pk, then=Value(a.spec_hash, output_field=ch)) for a in chunk], output_field=ch)
    return Task.objects.filter(pk__in=[a.pk for a in chunk], next_run_at=was, spec_hash=spec).update(
        next_run_at=Case(*[When(pk=a.pk, then=Value(a.next_run_at, output_field=dt)) for a in chunk],
                         output_field=dt),
        occurrences=F("occurrences") + Case(*[When(pk=a.pk, then=Value(a.planned)) for a in chunk],
                                            output_field=it, default=Value(0)),
        pending_job_id=Case(*[When(pk=a.pk, then=Value(a.last_job, output_field=ch)) for a in chunk],
                            output_field=ch),
    )  # fmt: skip


def take_back(task_ids: Iterable[int], planned: dict[int, tuple[str, list[str]]]) -> None:
    """Tasks edited while this pass planned them: drop what it planned, and re-plan them."""
    by_queue: dict[str, list[str]] = defaultdict(list)
    ids = list(task_ids)
    for tid in ids:
        queue, jobs = planned.get(tid, ("", []))
        if queue:
            by_queue[queue].extend(jobs)
    for queue, jobs in by_queue.items():
        unschedule(get_queue(queue), jobs)
    log.info("%d task(s) changed while being planned; re-planning them", len(ids))
    replan.tasks_changed(ids)


def queues_of(names: Iterable[str]) -> list[Queue]:
    return [get_queue(n) for n in names]
