"""Edits take effect now: after a task change commits, its pending jobs are replaced or removed.

`tasks_changed` is the one entry point, called after the commit by the admin, `tasks enable |
disable | delete`, the manifest's apply, and (through the signals below) any ORM `save()` or
`delete()` of a Task. For each task it:

1. takes back the task's jobs still in `scheduled` (in every queue: the queue may have changed);
   a job already queued or running is never touched;
2. for an enabled task, restarts `next_run_at` at its first occurrence after now (less a short
   grace, so the anchor run of a task created a moment ago is kept); for a disabled or deleted
   one, clears it;
3. stamps `updated_at` and publishes a wake-up on the scheduler's channel, so the scheduler plans it at once.

A save that changes nothing (same spec_hash) does nothing. A task handled once is not handled
again until it changes (updated_at, spec_hash or enabled), so a signal and an explicit call for
the same commit do the work once (a second removal of a deleted task finds nothing to remove).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import redis
from django.db import connections, router, transaction
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone

from scheduler_core.broker.channels import publish
from scheduler_core.broker.connection import get_client
from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import get_config
from scheduler_core.errors import TaskctlError
from scheduler_core.models import STATUS_FIELDS, Task
from scheduler_core.queues.queue import all_queues
from scheduler_core.tasks.horizon import grace, planned_reach
from scheduler_core.tasks.pending import scheduled_jobs_of, unschedule
from scheduler_core.tasks.row import FIELDS, initial_next_run, task_zone

log = logging.getLogger("taskctl.scheduler")

_MEMORY = 10_000  # tasks remembered as handled, per process
_handled: OrderedDict[int, tuple[Any, ...]] = OrderedDict()


def _remember(pk: int, marker: tuple[Any, ...]) -> None:
    _handled[pk] = marker
    _handled.move_to_end(pk)
    while len(_handled) > _MEMORY:
        _handled.popitem(last=False)


def tasks_changed(
    task_ids: Iterable[int],
    deleted: Iterable[tuple[int, str, str]] = (),
    *,
    now: datetime | None = None,
) -> None:
    """Re-plan these tasks' pending jobs; `deleted` is (id, queue, pending_job_id) of removed tasks.

    Call it after the DB commit. Broker trouble is logged, not raised: the commit stands, and the
    scheduler's next pass works from the database."""
    ids = {int(i) for i in task_ids}
    gone = {int(d[0]) for d in deleted}
    if not ids and not gone:
        return
    try:
        reconcile(ids, gone, now=now)
    except TaskctlError as exc:
        log.warning("tasks changed, but their pending jobs could not be updated: %s", exc)
    except Exception as exc:  # a broker outage must not undo or fail a committed edit
        if not isinstance(exc, redis.RedisError):
            raise
        log.warning("tasks changed, but the broker is unreachable: %s", exc)


def reconcile(ids: set[int], gone: set[int], *, now: datetime | None = None) -> int:
    """Do the work of tasks_changed; returns how many tasks were handled."""
    config = get_config()
    t = now or timezone.now()
    rows = {r["id"]: r for r in Task.objects.filter(pk__in=ids).values(*FIELDS)}
    gone |= ids - set(rows)
    changed = {pk: r for pk, r in rows.items() if _handled.get(pk) != _marker(r)}
    if not changed and not gone:
        return 0
    # The planner never plans past `lookahead` from its clock, and it records how far it went.
    reach = (t + timedelta(seconds=config.lookahead) + grace(config)).timestamp()
    _take_back_scheduled(set(changed) | gone, max(reach, planned_reach(config) or 0.0))
    g = grace(config)
    updates: dict[int, datetime | None] = {}
    for pk, row in changed.items():
        nxt = None
        if row["enabled"]:
            try:
                nxt = initial_next_run(row, t, g, task_zone(row["timezone"]))
            except Exception as exc:  # a spec the schedule functions refuse: nothing to plan
                log.warning("task %s: no next run: %s", pk, exc)
        updates[pk] = nxt
    stamp = timezone.now()
    _restart(changed, updates, stamp)
    for pk, row in changed.items():
        _remember(pk, (stamp, row["spec_hash"], row["enabled"]))
    for pk in gone:
        _handled.pop(pk, None)
    wake(config)
    return len(changed) + len(gone)


def _marker(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["updated_at"], row["spec_hash"], row["enabled"])


def _take_back_scheduled(task_ids: set[int], max_due: float) -> None:
    for q in all_queues():
        found = scheduled_jobs_of(q, task_ids, max_due)
        unschedule(q, [j for jobs in found.values() for j in jobs])


def _restart(rows: dict[int, dict[str, Any]], updates: dict[int, datetime | None], stamp: datetime) -> None:
    """next_run_at and updated_at of each task, only where it is unchanged since it was read.

    One statement whatever the number of tasks: on PostgreSQL an UPDATE joined to unnest() of
    three arrays (one round trip); elsewhere one parameterised UPDATE run for every row
    (executemany, in one transaction: SQLite runs it in-process, no round trip per row)."""
    if not updates:
        return
    conn = connections[router.db_for_write(Task)]
    qn, table = conn.ops.quote_name, conn.ops.quote_name(Task._meta.db_table)
    pk = qn(str(Task._meta.pk.column))
    ids = list(updates)
    if conn.vendor == "postgresql":
        sql = (
            f"UPDATE {table} AS t SET {qn('next_run_at')} = v.nxt, {qn('updated_at')} = %s "
            f"FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS v(id, nxt, seen) "
            f"WHERE t.{pk} = v.id AND t.{qn('updated_at')} = v.seen"
        )
        with conn.cursor() as cur:
            cur.execute(sql, [stamp, ids, [updates[i] for i in ids], [rows[i]["updated_at"] for i in ids]])
        return
    adapt = conn.ops.adapt_datetimefield_value
    sql = (f"UPDATE {table} SET {qn('next_run_at')} = %s, {qn('updated_at')} = %s "
           f"WHERE {pk} = %s AND {qn('updated_at')} = %s")  # fmt: skip
    when = adapt(stamp)
    # One transaction: in autocommit each row's UPDATE would be a commit (and a sync) of its own.
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        cur.executemany(sql, [(adapt(updates[i]), when, i, adapt(rows[i]["updated_at"])) for i in ids])


def wake(config: Any = None) -> None:
    """Tell a running scheduler to plan now (pub/sub; nobody listening is fine)."""

    config = config or get_config()
    client = get_client(config.broker_url, config.connect_timeout)
    publish(client, GlobalKeys(config.key_prefix).scheduler_wake, "1")


# ----- ORM signals: saves and deletes outside the admin / apply also take effect -----


def _loaded(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._taskctl_saved_hash = instance.__dict__.get("spec_hash")


def _saved(sender: Any, instance: Any, created: bool, update_fields: Any = None, raw: bool = False,
           **kwargs: Any) -> None:  # fmt: skip

    if raw or (update_fields and set(update_fields) <= {*STATUS_FIELDS, "updated_at"}):
        return  # bookkeeping only: nothing to re-plan
    before = getattr(instance, "_taskctl_saved_hash", None)
    instance._taskctl_saved_hash = instance.spec_hash
    if not created and before == instance.spec_hash:
        return
    _after_commit([instance.pk], (), kwargs.get("using"))


def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _after_commit([], [(instance.pk, instance.queue, instance.pending_job_id)], kwargs.get("using"))


def _after_commit(ids: list[int], gone: Any, using: str | None) -> None:
    transaction.on_commit(lambda: tasks_changed(ids, deleted=gone), using=using)


def connect_signals() -> None:
    """Called once from the app's ready()."""
    post_init.connect(_loaded, sender=Task, dispatch_uid="taskctl-task-loaded")
    post_save.connect(_saved, sender=Task, dispatch_uid="taskctl-task-saved")
    post_delete.connect(_deleted, sender=Task, dispatch_uid="taskctl-task-deleted")
