#!/usr/bin/env python
"""latency: pick-up latency on an idle worker, from just before the enqueue call to the job's
first line (the job pushes time.time() onto a Redis list). SAMPLES jobs, one at a time, GAP_MS
apart; p50 / p99 / max in milliseconds.

Variants: taskctl c1 (worker start --concurrency 1 --without-scheduler); RQ simple / worker;
django-tasks-scheduler nofork / fork (--without-scheduler).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.common import percentile, redis_client, start, stop
from benchlib.scenario import main


def body(args, side):  # type: ignore[no-untyped-def]
    import time

    side.setup(migrate=True)
    argv = side.worker_argv(args.variant, burst=False)
    r = redis_client(args.redis_url)
    proc = start(argv, side.child_env())
    try:
        side.enqueue_stamp("bench:warm")  # wait until the worker runs jobs at all
        if r.blpop("bench:warm", timeout=60) is None:
            raise RuntimeError("the worker ran no job within 60 s")
        for _ in range(20):  # warm-up samples, not counted
            side.enqueue_stamp("bench:warm")
            r.blpop("bench:warm", timeout=10)
        time.sleep(0.5)
        samples = []
        for i in range(args.samples):
            key = f"bench:lat:{i}"
            t0 = time.time()
            side.enqueue_stamp(key)
            got = r.blpop(key, timeout=10)
            if got is None:
                raise RuntimeError(f"sample {i}: no start within 10 s")
            samples.append((float(got[1]) - t0) * 1000)
            time.sleep(args.gap_ms / 1000)
    finally:
        stop(proc)
    return {
        "samples": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p99_ms": round(percentile(samples, 99), 3),
        "max_ms": round(max(samples), 3),
    }


if __name__ == "__main__":
    main("latency", __doc__ or "", ("taskctl", "rq", "dts"), body, samples=200, gap_ms=5.0)
