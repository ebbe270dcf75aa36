#!/usr/bin/env python
"""django_tasks_enqueue: N single enqueues of a no-op django.tasks task, one call each (jobs/s).

taskctl/backend: `noop.enqueue()` through scheduler_core.backend.TaskctlBackend, interleaved in
the same process with taskctl's own `get_queue("default").enqueue(path)` (own_jobs_per_s), so
`backend_vs_own` compares the two on equal terms (target >= 0.8: within 20 %).
rq/backend: `noop.enqueue()` through django-tasks-rq's RQBackend (django-rq, RQ 2.x).
run.py's ratio column is then TaskctlBackend / RQBackend (target >= 3).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.common import BENCH_DIR, NOOP, flush
from benchlib.scenario import main

ROUNDS = 5  # own and backend alternate in rounds, so machine load falls on both alike


def _django(settings: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    import django

    django.setup()


def _timed(one, n: int) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    for _ in range(n):
        one()
    return time.perf_counter() - t0


def body(args, side):  # type: ignore[no-untyped-def]
    if args.system == "taskctl":
        side._env_settings()  # the built-in settings' environment (broker URL, SQLite file)
        _django("benchlib.dtasks_settings")
        from benchlib.dtasks import noop

        from scheduler_core.queues.queue import get_queue

        q = get_queue("default")
        contenders = {"own": lambda: q.enqueue(NOOP), "backend": noop.enqueue}
    else:
        sys.path.insert(0, str(BENCH_DIR / "peers"))
        _django("dtrq_project.settings")
        from benchlib.dtasks import noop

        contenders = {"backend": noop.enqueue}
    for one in contenders.values():  # warm-up: connections, imports, script loading
        for _ in range(min(500, args.n)):
            one()
    flush(args.redis_url)
    seconds = dict.fromkeys(contenders, 0.0)
    per_round = max(1, args.n // ROUNDS)
    for _ in range(ROUNDS):
        for name, one in contenders.items():
            seconds[name] += _timed(one, per_round)
    n = per_round * ROUNDS
    out = {"n": n, "seconds": round(seconds["backend"], 4), "jobs_per_s": round(n / seconds["backend"], 1)}
    if "own" in seconds:
        out["own_jobs_per_s"] = round(n / seconds["own"], 1)
        out["backend_vs_own"] = round(seconds["own"] / seconds["backend"], 3)
    return out


if __name__ == "__main__":
    main("django_tasks_enqueue", __doc__ or "", ("taskctl", "rq"), body, n=20_000)
