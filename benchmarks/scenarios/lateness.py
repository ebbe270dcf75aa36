#!/usr/bin/env python
"""lateness: a task every second and one every 10 s, run by a worker with its scheduler for
DURATION seconds: lateness from each occurrence's planned time to its job's start (median, max)
and runs / expected runs, counting the occurrences planned inside the window.

taskctl: REPEATABLE tasks (interval 1 s and 10 s) running benchlib.jobs.tick, and
`worker start --with-scheduler --concurrency 1`; planned and start times come from the job
records. django-tasks-scheduler: CRON tasks "* * * * * *" and "*/10 * * * * *" (its REPEATABLE
type refuses intervals under SCHEDULER_INTERVAL, 10 s) running benchlib.dts_jobs.tick, and
`scheduler_worker` with its default settings (fork per job, scheduler thread, 10 s interval).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.common import median, redis_client, start, stop
from benchlib.scenario import main

TASKS = (("every1s", 1), ("every10s", 10))


def _dts_create() -> None:
    from scheduler.models import Task, TaskArg, TaskType

    for label, secs in TASKS:
        cron = "* * * * * *" if secs == 1 else f"* * * * * */{secs}"  # croniter: seconds come last
        task = Task(
            name=label,
            task_type=TaskType.CRON,
            callable="benchlib.dts_jobs.tick",
            cron_string=cron,
            queue="default",
        )
        task.save(schedule_job=False)
        TaskArg.objects.create(content_object=task, arg_type="str", val=label)
        task.save()  # now with its argument: schedules the first occurrence


def _dts_runs(url: str) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in TASKS}
    for raw in redis_client(url).lrange("bench:runs", 0, -1):
        label, planned, started = raw.decode().split()
        out[label].append((float(planned), float(started)))
    return out


def body(args, side):  # type: ignore[no-untyped-def]
    import time

    side.setup(migrate=True)
    argv = side.worker_argv("c1" if args.system == "taskctl" else "fork", burst=False, with_scheduler=True)
    proc = start(argv, side.child_env())
    try:
        time.sleep(3)  # start-up
        t0 = time.time()
        if args.system == "dts":
            _dts_create()
        else:
            side.create_lateness_tasks(list(TASKS))
        time.sleep(args.duration + args.grace)
    finally:
        stop(proc)
    runs = (
        _dts_runs(args.redis_url) if args.system == "dts" else {label: side.runs(label) for label, _ in TASKS}
    )
    result = {"duration_s": args.duration}
    for label, secs in TASKS:
        # Exactly `expected` occurrences of a grid with step `secs` fall in [t0, t0 + expected * secs).
        expected = int(args.duration // secs)
        inside = [(p, s) for p, s in runs[label] if t0 <= p < t0 + expected * secs]
        late = [s - p for p, s in inside]
        result[label] = {
            "runs": len(inside),
            "expected": expected,
            "runs_ratio": round(len(inside) / expected, 3) if expected else None,
            "median_s": round(median(late), 4) if late else None,
            "max_s": round(max(late), 4) if late else None,
        }
    return result


if __name__ == "__main__":
    main("lateness", __doc__ or "", ("taskctl", "dts"), body, duration=120.0, grace=12.0)
