#!/usr/bin/env python
"""queues_show: the whole inspection command's wall time with QUEUES queues holding JOBS jobs in
their registries (a third each queued, finished, failed).

Each system makes one real queued, finished and failed job per queue through its own API and
worker code; benchlib.common.clone_jobs then copies those records (hashes, result streams and
registry entries, with their scores) up to JOBS, so the data has each system's own layout.
Commands: taskctl queues show; rq info --url URL; manage.py scheduler_stats. One untimed run,
then the median of RUNS timed runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.common import clone_jobs, median, redis_client, run_timed
from benchlib.scenario import main


def body(args, side):  # type: ignore[no-untyped-def]
    names = [f"bench{i}" for i in range(args.queues)]
    side.setup(names, migrate=True)
    argv = side.stats_argv(names)
    per_queue = args.jobs // args.queues
    templates, counts = {}, {}
    for name in names:
        for registry, job_id in side.make_templates(name).items():
            label = f"{name}-{registry}"
            templates[label] = job_id
            counts[label] = per_queue // 3 - 1
    clone_jobs(args.redis_url, templates, counts)
    total = sum(counts.values()) + len(templates)
    env = side.child_env()
    run_timed(argv, env)  # untimed: page cache, .pyc
    times = [run_timed(argv, env) for _ in range(args.runs)]
    return {
        "jobs": total,
        "keys": redis_client(args.redis_url).dbsize(),
        "median_s": round(median(times), 4),
        "times_s": [round(t, 4) for t in times],
    }


if __name__ == "__main__":
    main("queues_show", __doc__ or "", ("taskctl", "rq", "dts"), body, queues=6, jobs=200_000, runs=5)
