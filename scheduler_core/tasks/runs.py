"""Task bookkeeping after a run: the worker calls `record_run` when a task's job ends.

One UPDATE with F() expressions, so concurrent workers never lose a count. `last_run_at` is the
planned time (occurrence) of the latest run that ended, or its end time for a run outside the
schedule (`tasks run`); an older occurrence ending late does not move it back. The scheduler's
broker-loss recovery relies on it: an occurrence at or before `last_run_at` is not re-enqueued.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, CharField, DateTimeField, F, Q, Value, When

from scheduler_core.models import Task

_SUCCESS = frozenset({"finished"})


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
