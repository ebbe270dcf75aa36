#!/usr/bin/env python
"""drain: N no-op jobs pre-enqueued, then a burst worker drains them (jobs/s).

Variants: taskctl c1 / c2 (worker start --burst --concurrency 1 / 2 --without-scheduler);
RQ worker / simple (rq worker --burst -q [-w rq.worker.SimpleWorker]);
django-tasks-scheduler fork / nofork (scheduler_worker --burst --without-scheduler
[--fork-job-execution false]).
jobs_per_s counts from the first job taken off the queue to the worker's exit;
jobs_per_s_process counts from the process start (start-up included).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.common import redis_client, start, stop
from benchlib.scenario import main


def body(args, side):  # type: ignore[no-untyped-def]
    import time

    side.setup(migrate=True)
    argv = side.worker_argv(args.variant, burst=True)
    side.fill_noops(args.n)
    r = redis_client(args.redis_url)
    before = r.dbsize()
    t_start = time.perf_counter()
    proc = start(argv, side.child_env())
    t_first = None
    while proc.poll() is None:
        if t_first is None and side.pending(r) < args.n:
            t_first = time.perf_counter()
        time.sleep(0.002)
    t_end = time.perf_counter()
    if proc.returncode != 0:
        raise RuntimeError(f"worker exited {proc.returncode}")
    left = side.pending(r)
    stop(proc)
    if t_first is None:
        t_first = t_start
    return {
        "n": args.n,
        "left": left,
        "keys_before": before,
        "seconds": round(t_end - t_first, 4),
        "jobs_per_s": round((args.n - left) / (t_end - t_first), 1),
        "jobs_per_s_process": round((args.n - left) / (t_end - t_start), 1),
    }


if __name__ == "__main__":
    main("drain", __doc__ or "", ("taskctl", "rq", "dts"), body, n=10_000)
