"""Task bookkeeping after a run: the worker calls `record_run` when a task's job ends.

One UPDATE with F() expressions, so concurrent workers never lose a count. `last_run_at` is the
planned time (occurrence) of the latest run that ended, or its end time for a run outside the
schedule (`tasks run`); an older occurrence ending late does not move it back. The scheduler's
broker-loss recovery relies on it: an occurrence at or before `last_run_at` is not re-enqueued.

A run the database cannot record (an outage) is not dropped: `record_or_defer` keeps it on the
broker (`GlobalKeys.pending_runs`) and every scheduler pass applies the kept runs once the
database answers (`apply_deferred`), so the counters equal the runs after the outage. A run is
counted twice only if the database committed its UPDATE but the reply was lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError, close_old_connections
from django.db.models import Case, CharField, DateTimeField, F, Q, Value, When

from scheduler_core.broker.connection import get_client
from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import get_config
from scheduler_core.jobs.record import dumps, loads
from scheduler_core.models import Task

log = logging.getLogger("taskctl.worker")

_SUCCESS = frozenset({"finished"})
_PAGE = 200  # deferred runs applied per round trip


def record_run(task_id: int, occurrence: datetime | None, status: str, ended_at: datetime) -> None:
    """Record that the job of `task_id` for `occurrence` ended with `status` (finished, failed, stopped)."""
    when = occurrence or ended_at
    newer = Q(last_run_at__isnull=True) | Q(last_run_at__lte=when)
    ok = status in _SUCCESS
    Task.objects.filter(pk=task_id).update(
        last_run_at=Case(
            When(newer, then=Value(when, output_field=DateTimeField())), default=F("last_run_at")
        ),
        last_status=Case(When(newer, then=Value(status, output_field=CharField())), default=F("last_status")),
        run_count=F("run_count") + 1,
        success_count=F("success_count") + (1 if ok else 0),
        failure_count=F("failure_count") + (0 if ok else 1),
    )


def _pending_key() -> tuple[Any, str]:
    cfg = get_config()
    return get_client(cfg.broker_url, cfg.connect_timeout), GlobalKeys(cfg.key_prefix).pending_runs


def record_or_defer(
    task_id: int, occurrence: datetime | None, status: str, ended_at: datetime, job_id: str = ""
) -> bool:
    """`record_run`, or (the database failing) keep the run on the broker for the scheduler to
    apply later. True when recorded now; raises only when neither store took it."""
    try:
        close_old_connections()
        record_run(task_id, occurrence, status, ended_at)
        return True
    except DatabaseError as exc:
        entry = {
            "task_id": task_id, "status": status, "ended_at": ended_at.timestamp(), "job_id": job_id,
            "occurrence": occurrence.timestamp() if occurrence else None,
        }  # fmt: skip
        client, key = _pending_key()
        client.rpush(key, dumps(entry, "task run"))
        log.warning("job %s: the database refused the run of task %s (%s): kept, the scheduler "
                    "records it when the database answers", job_id, task_id, _first_line(exc),
                    extra={"job_id": job_id, "task_id": task_id})  # fmt: skip
        return False


def apply_deferred(limit: int = 10_000) -> int:
    """Record the runs kept during a database outage, oldest first; returns how many. Stops at
    the first database error (the rest stay kept for the next pass)."""
    client, key = _pending_key()
    applied = 0
    while applied < limit:
        page: list[str] = client.lrange(key, 0, _PAGE - 1)
        if not page:
            break
        for raw in page:
            try:
                e = loads(raw)
                occurrence = datetime.fromtimestamp(e["occurrence"], UTC) if e.get("occurrence") else None
                ended = datetime.fromtimestamp(float(e["ended_at"]), UTC)
                task_id, status = int(e["task_id"]), str(e["status"])
            except Exception:  # not ours to understand: drop it, loudly
                log.error("dropping an unreadable kept task run: %r", raw[:200])
                client.lrem(key, 1, raw)
                continue
            if Task.objects.filter(pk=task_id).exists():  # a task deleted meanwhile: nothing to count
                record_run(task_id, occurrence, status, ended)  # DatabaseError: stop, keep the rest
            client.lrem(key, 1, raw)
            applied += 1
    if applied:
        log.info("recorded %d task runs kept during a database outage", applied)
    return applied


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
