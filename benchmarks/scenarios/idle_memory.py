#!/usr/bin/env python
"""idle_memory: an idle worker with its scheduler, WAIT seconds after start: PSS summed over its
process tree (/proc/PID/smaps_rollup of the process and all its descendants), in MiB.

taskctl c1 / c8: worker start --with-scheduler --concurrency 1 / 8 (a supervisor, 1 / 8 execution
processes, the scheduler); RQ worker: rq worker --with-scheduler (Worker); RQ pool8: rq worker-pool
-n 8 (a pool process and 8 forking workers), measured against taskctl c8. run.py derives what each
execution process after the first costs, (c8 - c1) / 7, and c8 / pool8.
django-tasks-scheduler (reference): scheduler_worker (scheduler thread on, fork per job).
taskctl floor1 / floor3: no worker at all, Django set up and idle in one process / forked into
three (benchlib/django_floor.py): the least a Django worker tree of that shape can measure.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.common import start, stop, tree_pss_kib
from benchlib.scenario import main


def body(args, side):  # type: ignore[no-untyped-def]
    import time

    side.setup(migrate=True)
    if args.variant.startswith("floor"):
        argv = [sys.executable, "-m", "benchlib.django_floor", args.variant.removeprefix("floor")]
    else:
        argv = side.worker_argv(args.variant, burst=False, with_scheduler=True)
    proc = start(argv, side.child_env())
    try:
        time.sleep(args.wait)
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited {proc.returncode} before the measurement")
        kib, count = tree_pss_kib(proc.pid)
    finally:
        stop(proc)
    return {"pss_mib": round(kib / 1024, 2), "processes": count, "wait_s": args.wait}


if __name__ == "__main__":
    main("idle_memory", __doc__ or "", ("taskctl", "rq", "dts"), body, wait=3.0)
