#!/usr/bin/env python
"""enqueue_bulk: N no-op jobs enqueued in bulk from one process (jobs/s).

taskctl: get_queue("default").enqueue_many(JobCall(path) for ...), pipelined;
RQ (reference): Queue.enqueue_many([Queue.prepare_data(path), ...]) in batches of 10,000.
django-tasks-scheduler has no bulk enqueue.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.common import flush, redis_client
from benchlib.scenario import main


def body(args, side):  # type: ignore[no-untyped-def]
    import time

    side.setup()
    side.enqueue_bulk(1000)  # warm-up
    flush(args.redis_url)
    t0 = time.perf_counter()
    side.enqueue_bulk(args.n)
    elapsed = time.perf_counter() - t0
    keys = redis_client(args.redis_url).dbsize()
    return {
        "n": args.n,
        "seconds": round(elapsed, 4),
        "jobs_per_s": round(args.n / elapsed, 1),
        "keys_after": keys,
    }


if __name__ == "__main__":
    main("enqueue_bulk", __doc__ or "", ("taskctl", "rq"), body, n=100_000)
