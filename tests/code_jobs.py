"""Callables for tests/test_django_code*.py: jobs run in the test's own process (eager, drain)."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.models import User

from scheduler_core import get_current_job
from scheduler_core.jobs.record import Job

CALLS: list[tuple[str, Any]] = []  # what callbacks saw, in order
_attempts: dict[str, int] = {}


def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"args": list(args), "kwargs": kwargs}


def progress(steps: int) -> str:
    """Report progress in meta after each step; returns its own id."""
    job = get_current_job()
    assert job is not None
    for i in range(steps):
        job.meta["done"] = i + 1
        job.meta["of"] = steps
        job.save_meta()
    return job.id


def my_id() -> str | None:
    job = get_current_job()
    return job.id if job else None


def flaky(token: str, failures: int) -> int:
    """Fail the first `failures` calls for `token`, then return the call count."""
    n = _attempts[token] = _attempts.get(token, 0) + 1
    if n <= failures:
        raise ValueError(f"attempt {n} fails")
    return n


def boom() -> None:
    raise KeyError("boom")


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def not_json() -> object:
    return object()


def user_email(pk: int) -> str:
    """Read a row: the job sees the database the caller sees."""
    return User.objects.get(pk=pk).email


def on_success(job: Job, result: Any) -> None:
    current = get_current_job()
    CALLS.append(("success", (job.id, result, current.id if current else None)))


def on_failure(job: Job, exc_type: str, exc_message: str, traceback: str) -> None:
    CALLS.append(("failure", (job.id, exc_type)))
