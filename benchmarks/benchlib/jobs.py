"""The job callables every system runs in the benchmarks (plain functions, importable everywhere).

Workers import them as `benchlib.jobs.<name>`: run.py puts benchmarks/ on PYTHONPATH.
"""

from __future__ import annotations

import os
import time
from typing import Any

_client: Any = None


def _redis() -> Any:
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])
    return _client


def noop() -> None:
    """Does nothing: the cost measured is the system's own."""


def fail() -> None:
    """Always raises (to make failed-registry records)."""
    raise RuntimeError("benchmark failure")


def stamp(key: str) -> None:
    """Record when this job started (time.time()) by pushing it onto the Redis list `key`."""
    started = time.time()
    _redis().rpush(key, repr(started))


def tick(label: str) -> None:
    """A scheduled task's body: record (label, start time) on the list bench:runs."""
    started = time.time()
    _redis().rpush("bench:runs", f"{label} {started!r}")
