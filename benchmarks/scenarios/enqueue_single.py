#!/usr/bin/env python
"""enqueue_single: N single enqueues of a no-op job from one process, one call each (jobs/s).

taskctl: get_queue("default").enqueue(path); RQ: Queue.enqueue(path);
django-tasks-scheduler: get_queue("default").create_and_enqueue_job(path).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.common import flush
from benchlib.scenario import main


def body(args, side):  # type: ignore[no-untyped-def]
    side.setup()
    one = side.enqueue_one()
    for _ in range(min(500, args.n)):  # warm-up: connections, imports, script loading
        one()
    flush(args.redis_url)
    import time

    t0 = time.perf_counter()
    for _ in range(args.n):
        one()
    elapsed = time.perf_counter() - t0
    return {"n": args.n, "seconds": round(elapsed, 4), "jobs_per_s": round(args.n / elapsed, 1)}


if __name__ == "__main__":
    main("enqueue_single", __doc__ or "", ("taskctl", "rq", "dts"), body, n=20_000)
