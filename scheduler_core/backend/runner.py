"""How a worker runs a django.tasks task: the job's callable is the task's path (so `jobs list`
names it), which imports a Task object; this wraps it as the function the worker calls.

Like Django's own backends: the context (if the task takes one) is built from the running job,
the return value must survive a JSON round trip (else the attempt fails with TypeError), and the
task_started / task_finished signals are sent (Django logs them on the "django.tasks" logger).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from scheduler_core.backend.compat import (
    AnyResult,
    AnyTask,
    TaskContext,
    TaskResult,
    TaskResultStatus,
    normalize_json,
    signals,
)
from scheduler_core.backend.results import to_result
from scheduler_core.worker.current import running_job


def runner_for(task: AnyTask) -> Callable[..., Any]:
    from scheduler_core.backend.backend import TaskctlBackend

    sender = TaskctlBackend

    def started(args: tuple[Any, ...]) -> tuple[AnyResult | None, tuple[Any, ...]]:
        job = running_job.get()
        if job is None:  # called outside a worker: a plain call, as Task.call would do
            bare: AnyResult = _unbound(task, args)
            return None, ((TaskContext(task_result=bare), *args) if task.takes_context else args)
        result = to_result(task, job, task.backend, status=TaskResultStatus.RUNNING)
        signals.task_started.send(sender, task_result=result)
        return result, ((TaskContext(task_result=result), *args) if task.takes_context else args)

    def finished(result: AnyResult | None, status: Any) -> None:
        if result is not None:
            object.__setattr__(result, "status", status)
            signals.task_finished.send(sender, task_result=result)

    if inspect.iscoroutinefunction(task.func):

        async def run_async(*args: Any, **kwargs: Any) -> Any:
            result, call_args = started(args)
            try:
                value = normalize_json(await task.func(*call_args, **kwargs))
            except BaseException:
                finished(result, TaskResultStatus.FAILED)
                raise
            finished(result, TaskResultStatus.SUCCESSFUL)
            return value

        return run_async

    def run(*args: Any, **kwargs: Any) -> Any:
        result, call_args = started(args)
        try:
            value = normalize_json(task.func(*call_args, **kwargs))
        except BaseException:
            finished(result, TaskResultStatus.FAILED)
            raise
        finished(result, TaskResultStatus.SUCCESSFUL)
        return value

    return run


def _unbound(task: AnyTask, args: tuple[Any, ...]) -> AnyResult:
    bare: AnyResult = TaskResult(
        task=task, id="", status=TaskResultStatus.RUNNING, enqueued_at=None, started_at=None,
        finished_at=None, last_attempted_at=None, args=list(args), kwargs={}, backend=task.backend,
        errors=[], worker_ids=[],
    )  # fmt: skip
    return bare
