"""A django-tasks-scheduler task body for the lateness scenario (runs inside its worker).

While a task's job runs, the package keeps the occurrence's planned time in Task.scheduled_time
(it moves on only in the completion callback), so the job can report (planned, started).
"""

from __future__ import annotations

import time

from benchlib.jobs import _redis


def tick(label: str) -> None:
    started = time.time()
    from scheduler.models import Task

    planned = Task.objects.filter(name=label).values_list("scheduled_time", flat=True).first()
    planned_ts = planned.timestamp() if planned is not None else float("nan")
    _redis().rpush("bench:runs", f"{label} {planned_ts!r} {started!r}")
