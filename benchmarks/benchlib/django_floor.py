"""The least memory a Django-based worker tree of the issue's shape can hold, for idle_memory.

    python -m benchlib.django_floor PROCESSES

One process sets Django up with taskctl's built-in settings, imports redis-py (every worker talks
to Redis) and runs one ORM query, then (after gc.freeze, as taskctl's supervisor does) forks
PROCESSES - 1 children. Every process then sleeps: no worker code, no Redis connection, no pass.
A real worker tree can only hold more than this, so when this floor is above RQ's whole tree,
no Django worker with a separate scheduler and execution process can match RQ on memory.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time


def main(processes: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskctl.settings")
    import django

    django.setup()
    import redis  # noqa: F401  # every worker process holds a Redis client library
    from django.db import connections

    from scheduler_core.models import Task

    Task.objects.filter(enabled=True).exists()
    connections.close_all()
    gc.collect()
    gc.freeze()
    for _ in range(processes - 1):
        if os.fork() == 0:
            break
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
