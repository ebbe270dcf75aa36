"""Callables that tests schedule and run. Keep them simple and importable by dotted path."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time

from scheduler_core.broker.connection import get_client
from scheduler_core.conf import get_config
from scheduler_core.worker.timeouts import JobTimeout


def noop() -> None:
    return None


def add(a: int, b: int) -> int:
    return a + b


def fail() -> None:
    raise RuntimeError("tests.jobs.fail was asked to fail")


def big(n: int) -> str:
    """A result of `n` characters (MAX_RESULT_BYTES tests)."""
    return "x" * n


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


# ----- used by the worker's process tests (tests/test_worker_*.py) -----
def _redis():
    cfg = get_config()
    return get_client(cfg.broker_url), cfg.key_prefix


def record(token: str, seconds: float = 0.0) -> str:
    """Count an execution of `token` (INCR <prefix>:runs:<token>), then sleep `seconds`."""
    r, prefix = _redis()
    r.incr(f"{prefix}:runs:{token}")
    if seconds:
        time.sleep(seconds)
    return token


def fail_times(token: str, failures: int) -> int:
    """Fail the first `failures` executions of `token`, then succeed with the execution count."""
    r, prefix = _redis()
    n = int(r.incr(f"{prefix}:runs:{token}"))
    if n <= failures:
        raise ValueError(f"attempt {n} of {token} fails")
    return n


def cleanup_on_timeout(token: str, seconds: float) -> None:
    """Sleep; when the soft timeout interrupts, record that cleanup ran and re-raise."""
    r, prefix = _redis()
    try:
        time.sleep(seconds)
    except JobTimeout:
        r.set(f"{prefix}:cleaned:{token}", "1")
        raise


def ignore_timeout(seconds: float) -> None:
    """Swallow the soft timeout and keep sleeping: only the hard timeout stops this."""
    end = time.time() + seconds
    while time.time() < end:
        with contextlib.suppress(JobTimeout):
            time.sleep(max(end - time.time(), 0))


async def async_add(a: int, b: int) -> int:
    await asyncio.sleep(0.01)
    return a + b


def not_json() -> object:
    return {1, 2, 3}


def exit_process() -> None:
    """Kill the execution process from inside a job (as a segfault or OOM kill would)."""
    os._exit(3)


def callback_success(job, result) -> None:
    r, prefix = _redis()
    r.set(f"{prefix}:callback:{job.id}", f"success:{result}")


def callback_failure(job, exc_type, exc_message, traceback) -> None:
    r, prefix = _redis()
    r.set(f"{prefix}:callback:{job.id}", f"failure:{exc_type}")


def callback_stopped(job) -> None:
    r, prefix = _redis()
    r.set(f"{prefix}:callback:{job.id}", "stopped")


def callback_slow(job, *args) -> None:
    time.sleep(30)


def stamp(channel: str) -> None:
    """Push the time this job started to the list <prefix>:<channel> (pick-up latency checks)."""
    started = time.time()
    r, prefix = _redis()
    r.rpush(f"{prefix}:{channel}", repr(started))


# ----- used by the broker tests (tests/test_broker_*.py) -----
from scheduler_core.jobs.decorator import job as _job  # noqa: E402


@_job(queue="high", timeout=42, result_ttl=7)
def decorated_add(a: int, b: int) -> int:
    """A function registered with @job: callable directly, and `.delay()` enqueues it."""
    return a + b


def loaded(*names: str) -> list[str]:
    """Which of these modules are imported in the process that runs this job."""
    return [n for n in names if n in sys.modules]
