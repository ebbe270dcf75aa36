"""Reconcile before promotion: a task's job that is due is promoted only if the task still wants it.

Edits through `save()` replace a task's pending jobs at once (tasks/replan.py), but
`QuerySet.update(enabled=False)`, a raw UPDATE or a data migration change rows without a signal.
So each pass looks at the task jobs it is about to promote (due in `scheduled`) and drops those whose
task is gone, disabled, moved to another queue, runs something else (callable, arguments,
callbacks, timeout) or no longer has that occurrence on its schedule; the changed tasks are then
re-planned from the database. Cost: one ZRANGEBYSCORE per queue a pass, and for due task jobs one
pipelined read of their specs and one DB query.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from scheduler_core.jobs.record import loads
from scheduler_core.models import Task
from scheduler_core.tasks import replan
from scheduler_core.tasks.pending import task_of, unschedule
from scheduler_core.tasks.row import FIELDS, TaskRow, first_after, task_zone

if TYPE_CHECKING:
    from scheduler_core.queues.queue import Queue

log = logging.getLogger("taskctl.scheduler")

LIMIT = 5000  # due jobs looked at per queue and pass (promotion takes them in due order too)
_EPSILON = timedelta(milliseconds=1)
_SAME = ("callable", "on_success", "on_failure", "on_stopped")


def _wants(row: TaskRow | None, queue: str, spec: dict[str, Any], occurrence: datetime) -> bool:
    """Whether the task (`row`, a TaskRow) still wants this job."""
    if row is None or not row["enabled"] or row["queue"] != queue:
        return False
    fields = cast("dict[str, Any]", row)
    if any((fields[f] or "") != (spec.get(f) or "") for f in _SAME):
        return False
    if list(row["args"] or []) != list(spec.get("args") or []) or dict(row["kwargs"] or {}) != dict(
        spec.get("kwargs") or {}
    ):
        return False
    if row["timeout"] is not None and row["timeout"] != spec.get("timeout"):
        return False
    try:
        # (within a millisecond: the record keeps the occurrence as float epoch seconds)
        nxt = first_after(row, occurrence - _EPSILON, task_zone(row["timezone"]))
    except Exception:  # a schedule that no longer parses: the quarantine reports it
        return False
    return nxt is not None and abs(nxt - occurrence) < _EPSILON


def drop_stale(queues: Sequence[Queue], now: float) -> int:
    """Take back the due task jobs no task wants any more; returns how many were dropped."""
    due: list[tuple[Queue, list[str]]] = []
    for q in queues:
        ids = [str(i) for i in q.connection.zrangebyscore(q.keys.scheduled, "-inf", repr(now), 0, LIMIT)]
        ids = [i for i in ids if task_of(i) is not None]
        if ids:
            due.append((q, ids))
    if not due:
        return 0
    task_ids = {t for _, ids in due for i in ids if (t := task_of(i)) is not None}
    rows = {r["id"]: r for r in Task.objects.filter(pk__in=task_ids).values(*FIELDS)}
    dropped, changed = 0, set()
    for q, ids in due:
        pipe = q.connection.pipeline(transaction=False)
        for i in ids:
            pipe.hget(q.keys.job(i), "spec")
        stale = []
        for job_id, raw in zip(ids, pipe.execute(), strict=True):
            try:
                spec = loads(raw) if raw else None
            except ValueError:
                spec = None  # a corrupt record: the claim path fails it as corrupt
            if not isinstance(spec, dict) or not isinstance(spec.get("occurrence"), (int, float)):
                continue
            tid = task_of(job_id)
            row = rows.get(tid) if tid is not None else None
            occurrence = datetime.fromtimestamp(spec["occurrence"], UTC)
            if not _wants(row, q.name, spec, occurrence):
                stale.append(job_id)
                if row is not None and row["enabled"]:
                    changed.add(row["id"])
        if stale:
            dropped += unschedule(q, stale)
    if dropped:
        log.info("%d due job(s) of disabled, deleted or changed tasks dropped before promotion", dropped)
    if changed:
        replan.tasks_changed(changed)
    return dropped
