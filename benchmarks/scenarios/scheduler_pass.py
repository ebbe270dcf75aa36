#!/usr/bin/env python
"""scheduler_pass: one scheduler pass over TOTAL enabled tasks of which DUE_PCT % are due:
wall time and DB queries (counted with Django's CaptureQueriesContext), in process.

taskctl: side_taskctl.create_tasks + side_taskctl.scheduler_pass (the function behind
`taskctl scheduler tick`). django-tasks-scheduler (reference): TOTAL hourly tasks, each with its
pending job in the scheduled registry (1 % due), then one WorkerScheduler.enqueue_scheduled_jobs()
call: its _reschedule_tasks (one query plus a pipeline) and the move of due jobs to the queue.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.scenario import main


def _dts(args):  # type: ignore[no-untyped-def]
    import time
    from datetime import timedelta

    from benchlib.common import NOOP, clone_jobs
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from scheduler.helpers.queues import get_queue
    from scheduler.models import Task, TaskType, run_task
    from scheduler.worker.scheduler import WorkerScheduler

    due = max(1, round(args.total * args.due_pct / 100))
    now = timezone.now()
    # Template tasks, saved normally: the package schedules their pending jobs itself.
    soon = Task.objects.create(
        name="tpl-due", task_type=TaskType.REPEATABLE, callable=NOOP, queue="default",
        interval=1, interval_unit="hours", scheduled_time=now + timedelta(seconds=2),
    )  # fmt: skip
    later = Task.objects.create(
        name="tpl-later", task_type=TaskType.REPEATABLE, callable=NOOP, queue="default",
        interval=1, interval_unit="hours", scheduled_time=now + timedelta(minutes=30),
    )  # fmt: skip
    assert soon.job_name and later.job_name and run_task
    clone_jobs(
        args.redis_url,
        {"due": soon.job_name, "later": later.job_name},
        {"due": due - 1, "later": args.total - due - 1},
    )
    rows = [
        Task(
            name=f"bench-{i:06d}", task_type=TaskType.REPEATABLE, callable=NOOP, queue="default",
            interval=1, interval_unit="hours",
            scheduled_time=now + (timedelta(seconds=2) if i < due - 1 else timedelta(minutes=30)),
            job_name=f"bench-due-{i:07d}" if i < due - 1 else f"bench-later-{i - due + 1:07d}",
        )
        for i in range(args.total - 2)
    ]  # fmt: skip
    Task.objects.bulk_create(rows, batch_size=2000)
    time.sleep(max(0.0, (now + timedelta(seconds=2.2) - timezone.now()).total_seconds()))
    queue = get_queue("default")
    scheduler = WorkerScheduler([queue], "bench-scheduler")
    scheduler._acquire_locks()
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        scheduler.enqueue_scheduled_jobs()
        elapsed = time.perf_counter() - t0
    scheduler.release_locks()
    moved = queue.registry_counts()["queued"]
    return {
        "tasks": args.total,
        "due": due,
        "moved": moved,
        "seconds": round(elapsed, 4),
        "queries": len(ctx.captured_queries),
    }


def body(args, side):  # type: ignore[no-untyped-def]
    side.setup(migrate=True)
    if args.system == "dts":
        return _dts(args)
    due = max(1, round(args.total * args.due_pct / 100))
    side.create_tasks(args.total, due)
    result = side.scheduler_pass()
    return {"tasks": args.total, "due": due, **result}


if __name__ == "__main__":
    main("scheduler_pass", __doc__ or "", ("taskctl", "dts"), body, total=10_000, due_pct=1.0)
