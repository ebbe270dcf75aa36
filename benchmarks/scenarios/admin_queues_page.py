#!/usr/bin/env python
"""admin_queues_page: the server time of the admin's Queues page with JOBS jobs in the registries
of QUEUES queues (a third each queued, finished, failed). Target: <= 100 ms.

A real queued, finished and failed job per queue is made through taskctl's own API (the worker's
claim / complete moves); their records and registry entries are then copied up to JOBS under
this run's own key prefix. The page is requested in-process through Django's test Client as a
logged-in superuser (the whole Django request: middleware, session, view, template), so the time
is the server's, without a network or a browser. One untimed request, then RUNS timed ones.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchlib.common import median, percentile, redis_client
from benchlib.scenario import main


def _copy(r, prefix: str, queue: str, registry: str, template: str, n: int) -> None:  # type: ignore[no-untyped-def]
    """`n` copies of job `template` in `registry`: its record and its registry entry (same score)."""
    from scheduler_core.broker.keys import QueueKeys

    k = QueueKeys(prefix, queue)
    record = r.hgetall(k.job(template))
    key = k.registry(registry)
    score = None if registry == "queued" else r.zscore(key, template)
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        new = f"bench-{registry}-{i:07d}"
        old_b, new_b = template.encode(), new.encode()
        pipe.hset(k.job(new), mapping={f: v.replace(old_b, new_b) for f, v in record.items()})
        if score is None:
            pipe.rpush(key, new)
        else:
            pipe.zadd(key, {new: score})
        if (i + 1) % 2000 == 0:
            pipe.execute()
    pipe.execute()


def body(args, side):  # type: ignore[no-untyped-def]
    names = [f"bench{i}" for i in range(args.queues)]
    prefix = f"bench-admin-{uuid.uuid4().hex[:8]}"
    os.environ["TASKCTL_KEY_PREFIX"] = prefix
    side._env_settings(names)
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchlib.admin_site"
    import django

    django.setup()
    side._ready = True
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    r = redis_client(args.redis_url)
    try:
        per = args.jobs // args.queues // 3
        for name in names:
            for registry, job_id in side.make_templates(name).items():
                _copy(r, prefix, name, registry, job_id, per - 1)
        user = User.objects.create(username="bench", is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(user)
        url = "/admin/scheduler_core/queue/"
        first = client.get(url)
        assert first.status_code == 200, first.status_code
        from scheduler_core.console.overview import queue_overview

        shown = sum(q[reg] for q in queue_overview().queues for reg in ("queued", "finished", "failed"))
        assert f">{per}<" in first.content.decode()  # the page shows the counts
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            resp = client.get(url)
            times.append(time.perf_counter() - t)
            assert resp.status_code == 200
        return {
            "jobs": shown,
            "queues": args.queues,
            "median_ms": round(median(times) * 1000, 2),
            "p95_ms": round(percentile(times, 95) * 1000, 2),
            "target_ms": 100,
            "times_ms": [round(x * 1000, 2) for x in times[:10]],
        }
    finally:
        batch = list(r.scan_iter(match=f"{prefix}:*", count=5000))
        for i in range(0, len(batch), 1000):
            r.delete(*batch[i : i + 1000])


if __name__ == "__main__":
    main("admin_queues_page", __doc__ or "", ("taskctl",), body, queues=6, jobs=200_000, runs=30)
