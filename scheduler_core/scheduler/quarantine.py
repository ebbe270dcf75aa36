"""Quarantine: a task row the pass cannot plan is set aside with its reason; the rest go on.

Rows reach the database past validation (`QuerySet.update`, `bulk_create`, a data migration, a
`save(validate=False)`), so the pass checks each due row itself: the callable and callbacks resolve
and are allowed (the run-time rule), the queue is configured, the cron and the timezone parse.
A bad row gets `last_status = "invalid"` and `invalid_reason`, written (and logged) only when the
reason changes, never once per pass; it is looked at again every pass and comes back by itself
once it is valid (the module was deployed, the row was fixed).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, cast

from scheduler_core.callables import resolve
from scheduler_core.conf import SchedulerConfig
from scheduler_core.errors import TaskctlError
from scheduler_core.models import Task
from scheduler_core.tasks.row import TaskRow
from scheduler_core.tasks.schedules import validate_cron, zone

log = logging.getLogger("taskctl.scheduler")

INVALID = "invalid"  # Task.last_status of a quarantined row
CALLABLE_FIELDS = ("callable", "on_success", "on_failure", "on_stopped")


@lru_cache(maxsize=4096)
def _cron_problem(expr: str, tz_name: str) -> str | None:
    try:
        validate_cron(expr)
        zone(tz_name)
    except TaskctlError as exc:
        return str(exc)
    return None


def row_problem(row: TaskRow, config: SchedulerConfig, tz_name: str) -> str | None:
    """Why this due row (a TaskRow) cannot be planned, or None."""
    fields = cast("dict[str, Any]", row)
    for f in CALLABLE_FIELDS:
        path = fields[f]
        if f != "callable" and not path:
            continue
        try:
            resolve(path, config.allowed_callables)
        except TaskctlError as exc:
            return f"{f}: {exc}"
    try:
        config.queue(row["queue"])
    except TaskctlError as exc:
        return f"queue: {exc}"
    if str(row["type"]).lower() == "cron":
        problem = _cron_problem(str(row["cron"]), tz_name)
        if problem is not None:
            return f"cron: {problem}"
    if not isinstance(row["args"] or [], list) or not isinstance(row["kwargs"] or {}, dict):
        return "args must be a list and kwargs a mapping"
    return None


def rechecking(rows: Iterable[TaskRow]) -> None:
    """Before rows quarantined earlier are checked again: let a module deployed since then be
    found (the import system caches directory listings)."""
    if any(r.get("invalid_reason") for r in rows):
        importlib.invalidate_caches()


def record(bad: dict[int, str], healed: Iterable[int], was: dict[int, str]) -> None:
    """Write the quarantine changes of one pass: `bad` {id: reason}, `healed` ids now valid;
    `was` is each row's invalid_reason as read. Unchanged reasons cost no write and no log line."""
    for pk, reason in bad.items():
        if was.get(pk) == reason:
            continue
        Task.objects.filter(pk=pk).update(last_status=INVALID, invalid_reason=reason)
        log.warning("task %s quarantined (not planned until fixed): %s", pk, reason)
    healed = [pk for pk in healed if was.get(pk)]
    if healed:
        Task.objects.filter(pk__in=healed, last_status=INVALID).update(last_status="")
        Task.objects.filter(pk__in=healed).update(invalid_reason="")
        log.info("task(s) %s valid again: planned as usual", ", ".join(map(str, healed)))
