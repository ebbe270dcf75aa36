"""django.tasks `@task` functions the TaskctlBackend tests enqueue (the site's own task module).

On Django 6.0+ they come from django.tasks; on Django 5.2 from the django-tasks backport."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from scheduler_core.backend.compat import FRAMEWORK

if FRAMEWORK == "django.tasks":
    from django.tasks import task
else:  # Django 5.2: the backport (typed like django.tasks)
    task = __import__("django_tasks").task
if TYPE_CHECKING:
    from django.tasks import TaskContext

from tests.jobs import fail_times as _fail_times


@task
def noop(*args: Any, **kwargs: Any) -> None:
    return None


@task()
def add(a: int, b: int) -> int:
    return a + b


@task
async def add_async(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


@task(queue_name="high")
def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"args": list(args), "kwargs": kwargs}


@task
def failing_value_error() -> None:
    raise ValueError("This task failed due to ValueError")


@task
def complex_return_value() -> object:
    return object()  # not JSON: the attempt fails with TypeError, as in Django's backends


@task(takes_context=True)
def context_info(context: TaskContext[Any, Any]) -> dict[str, Any]:
    r = context.task_result
    return {"id": r.id, "attempt": context.attempt, "worker_ids": r.worker_ids, "status": str(r.status)}


@task(takes_context=True, backend="retrying")
def flaky(context: TaskContext[Any, Any], token: str, failures: int) -> dict[str, int]:
    """Fails its first `failures` attempts (the `retrying` backend retries it), then reports."""
    runs = _fail_times(token, failures)
    return {"runs": runs, "attempt": context.attempt}


@task
def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds
