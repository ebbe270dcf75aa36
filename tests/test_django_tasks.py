"""TaskctlBackend: Django's tasks framework (django.tasks on Django 6.0+, the django-tasks backport
on 5.2) on taskctl queues and real `taskctl worker start` processes.

The behaviours are those Django's own test suite checks of its backends (tests/tasks/ in Django:
enqueue, aenqueue, get_result / aget_result at each state, errors with class and traceback,
context, JSON arguments, validation), here against a real Redis and a real worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from scheduler_core.backend import TaskctlBackend
from scheduler_core.backend.compat import (
    FRAMEWORK,
    InvalidTask,
    TaskResultDoesNotExist,
    TaskResultStatus,
    signals,
)
from scheduler_core.conf import reset_config
from scheduler_core.queues.queue import get_queue
from tests import dtasks
from tests.processes import WorkerProc, wait_for

if FRAMEWORK == "django.tasks":
    from django.tasks import default_task_backend, task, task_backends
    from django.tasks.exceptions import TaskResultMismatch as Mismatch
else:  # Django 5.2: the backport (typed like django.tasks)
    django_tasks: Any = __import__("django_tasks.exceptions")
    default_task_backend, task, task_backends = (
        django_tasks.default_task_backend,
        django_tasks.task,
        django_tasks.task_backends,
    )
    Mismatch = django_tasks.exceptions.TaskResultMismatch  # type: ignore[misc]


def result_of(task: Any, result_id: str) -> Any:
    return task.get_result(result_id)


def wait_result(task: Any, result_id: str, *statuses: Any, timeout: float = 20) -> Any:
    wait_for(lambda: task.get_result(result_id).status in statuses, timeout, f"{result_id} in {statuses}")
    return task.get_result(result_id)


# ----- enqueue: a taskctl job like any other -----
def test_enqueue_writes_a_taskctl_job() -> None:
    result = dtasks.add.enqueue(1, b=2)
    assert result.status == TaskResultStatus.READY
    assert result.task == dtasks.add and result.backend == "default"
    assert result.args == [1] and result.kwargs == {"b": 2}
    assert result.enqueued_at is not None and result.started_at is None and result.finished_at is None
    assert result.attempts == 0 and result.errors == [] and not result.is_finished
    with pytest.raises(ValueError, match="Task has not finished yet"):
        _ = result.return_value

    q = get_queue("default")
    assert q.job_ids("queued") == [result.id]
    job = q.fetch_job(result.id)
    assert job is not None and job.callable == "tests.dtasks.add"  # `jobs list` names the task
    assert job.args == [1] and job.kwargs == {"b": 2}
    assert dtasks.add.get_result(result.id) == result  # the stored record reads back the same


def test_enqueue_sends_task_enqueued(caplog: pytest.LogCaptureFixture) -> None:

    seen: list[Any] = []

    def receiver(sender: Any, task_result: Any, **kwargs: Any) -> None:
        seen.append(task_result)

    signals.task_enqueued.connect(receiver)
    try:
        result = dtasks.noop.enqueue()
    finally:
        signals.task_enqueued.disconnect(receiver)
    assert seen == [result]
    # Django's own receiver logs it at DEBUG on "django.tasks" (skipped only when nothing listens)
    with caplog.at_level("DEBUG", logger=signals.logger.name):
        logged = dtasks.noop.enqueue()
    assert any("enqueued" in r.getMessage() and logged.id in r.getMessage() for r in caplog.records)


def test_the_cli_sees_it_like_any_job(key_prefix: str) -> None:

    result = dtasks.add.using(priority=5).enqueue(4, b=5)
    env = {**os.environ, "TASKCTL_SETTINGS": "tests.settings", "TASKCTL_KEY_PREFIX": key_prefix}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run([sys.executable, "-m", "taskctl", "jobs", "show", result.id, "-o", "json"],
                         env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    job = shown.get("job", shown)
    assert job["callable"] == "tests.dtasks.add" and job["args"] == [4] and job["kwargs"] == {"b": 5}
    assert job["status"] == "queued" and job["meta"]["django_task"] == {"backend": "default", "priority": 5}


def test_aenqueue_and_aget_result() -> None:
    async def go() -> tuple[Any, Any]:
        result = await dtasks.add_async.aenqueue(2, 2)
        return result, await dtasks.add_async.aget_result(result.id)

    result, again = asyncio.run(go())
    assert result.status == TaskResultStatus.READY and again == result


def test_queue_name_is_a_taskctl_queue() -> None:
    result = dtasks.echo.enqueue(1)
    assert get_queue("high").job_ids("queued") == [result.id]
    with pytest.raises(InvalidTask, match=r"Queue 'nope' is not valid for backend.*default, high, low"):
        dtasks.noop.using(queue_name="nope")
    # a backend's own QUEUES narrow it further (Django's rule)
    with pytest.raises(InvalidTask, match="Queue 'high' is not valid for backend"):
        dtasks.noop.using(backend="retrying", queue_name="high")


def test_validate_on_enqueue_follows_the_settings(settings: Any) -> None:
    task = dtasks.noop.using(queue_name="low")
    settings.SCHEDULER = {**settings.SCHEDULER, "QUEUES": {"default": {}}}

    reset_config()
    with pytest.raises(InvalidTask, match="Queue 'low' is not valid"):
        task.enqueue()


def test_priority_maps_to_the_front_of_the_queue() -> None:
    first = dtasks.noop.enqueue()
    urgent = dtasks.noop.using(priority=10).enqueue()
    assert get_queue("default").job_ids("queued") == [urgent.id, first.id]
    assert dtasks.noop.get_result(urgent.id).task.priority == 10
    with pytest.raises(InvalidTask, match="priority -1 is not supported by TaskctlBackend"):
        dtasks.noop.using(priority=-1)
    with pytest.raises(InvalidTask, match="priority must be a whole number"):
        dtasks.noop.using(priority=101)


def test_arguments_obey_the_json_rule() -> None:
    with pytest.raises(TypeError, match="Unsupported type"):
        dtasks.noop.enqueue(datetime.now())
    with pytest.raises(TypeError, match="Unsupported"):
        dtasks.noop.enqueue(float("nan"))
    assert get_queue("default").count("queued") == 0  # nothing was written
    result = dtasks.echo.enqueue((1, 2), key=("a", b"b"))
    assert result.args == [[1, 2]] and result.kwargs == {"key": ["a", "b"]}


def test_deferred_and_naive_run_after() -> None:
    when = datetime.now(UTC) + timedelta(hours=1)
    result = dtasks.add.using(run_after=when).enqueue(1, 1)
    q = get_queue("default")
    assert q.job_ids("scheduled") == [result.id] and q.count("queued") == 0
    again = dtasks.add.get_result(result.id)
    assert again.status == TaskResultStatus.READY and again.task.run_after == when and again == result
    with pytest.raises(InvalidTask, match="run_after must be an aware datetime"):
        dtasks.add.using(run_after=datetime.now())


def test_missing_and_foreign_results() -> None:
    with pytest.raises(TaskResultDoesNotExist):
        dtasks.noop.get_result("123")
    with pytest.raises(TaskResultDoesNotExist):
        asyncio.run(dtasks.noop.aget_result("123"))
    plain = get_queue("default").enqueue("tests.jobs.noop")  # a taskctl job, not a Django task
    with pytest.raises(TaskResultDoesNotExist):
        default_task_backend.get_result(plain.id)
    other = dtasks.noop.enqueue()
    with pytest.raises(Mismatch, match="Task does not match"):
        dtasks.add.get_result(other.id)


def test_invalid_functions_and_options() -> None:
    with pytest.raises(InvalidTask, match="module level"):
        task()(lambda: None)
    with pytest.raises(InvalidTask, match="first argument of 'context'"):
        task(takes_context=True)(dtasks.add.func)

    with pytest.raises(ImproperlyConfigured, match=r"TASKS\['x'\]: unknown OPTIONS RETRY"):
        TaskctlBackend("x", {"OPTIONS": {"RETRY": 3}})
    with pytest.raises(ImproperlyConfigured, match="RETRIES"):
        TaskctlBackend("x", {"OPTIONS": {"RETRIES": -1}})
    backend = task_backends["default"]
    assert isinstance(backend, TaskctlBackend)
    assert (backend.supports_defer, backend.supports_async_task, backend.supports_get_result) == (True,) * 3


# ----- the Show: enqueued, deferred, failed, retried on a real worker, get_result at each state -----
def test_lifecycle_on_a_real_worker(worker: WorkerProc) -> None:
    ok = dtasks.add.enqueue(2, 3)
    a = dtasks.add_async.enqueue(1, 1)
    bad = dtasks.failing_value_error.enqueue()
    not_json = dtasks.complex_return_value.enqueue()
    ctx = dtasks.context_info.enqueue()
    retried = dtasks.flaky.enqueue(f"flaky-{worker.prefix}", 1)
    run_after = datetime.now(UTC) + timedelta(seconds=3)
    deferred = dtasks.add.using(run_after=run_after).enqueue(5, 5)
    slow = dtasks.sleep.enqueue(2)
    for task, r in ((dtasks.add, ok), (dtasks.flaky, retried), (dtasks.add, deferred), (dtasks.sleep, slow)):
        assert task.get_result(r.id).status == TaskResultStatus.READY

    worker.start("--concurrency", "2")
    name = worker.name

    running = wait_result(dtasks.sleep, slow.id, TaskResultStatus.RUNNING)
    assert running.started_at is not None and running.finished_at is None
    assert running.last_attempted_at == running.started_at and running.worker_ids == [name]

    done = wait_result(dtasks.add, ok.id, TaskResultStatus.SUCCESSFUL)
    assert done.return_value == 5 and done.is_finished and done.errors == []
    assert done.enqueued_at <= done.started_at <= done.finished_at
    assert done.attempts == 1 and done.worker_ids == [name]
    assert wait_result(dtasks.add_async, a.id, TaskResultStatus.SUCCESSFUL).return_value == 2

    failed = wait_result(dtasks.failing_value_error, bad.id, TaskResultStatus.FAILED)
    with pytest.raises(ValueError, match="Task failed"):
        _ = failed.return_value
    assert failed.errors[0].exception_class is ValueError
    assert failed.errors[0].traceback.endswith("ValueError: This task failed due to ValueError\n")
    assert failed.finished_at is not None and failed.attempts == 1

    bad_value = wait_result(dtasks.complex_return_value, not_json.id, TaskResultStatus.FAILED)
    assert bad_value.errors[0].exception_class is TypeError
    assert "Unsupported type" in bad_value.errors[0].traceback

    context = wait_result(dtasks.context_info, ctx.id, TaskResultStatus.SUCCESSFUL).return_value
    assert context == {"id": ctx.id, "attempt": 1, "worker_ids": [name], "status": "RUNNING"}

    again = wait_result(dtasks.flaky, retried.id, TaskResultStatus.SUCCESSFUL)
    assert again.return_value == {"runs": 2, "attempt": 2}  # TaskContext.attempt is the job's attempt
    assert again.attempts == 2 and again.errors[0].exception_class is ValueError  # the first attempt's

    early = dtasks.add.get_result(deferred.id)
    assert early.status == TaskResultStatus.READY or datetime.now(UTC) >= run_after
    later = wait_result(dtasks.add, deferred.id, TaskResultStatus.SUCCESSFUL)
    assert later.return_value == 10 and later.started_at >= run_after

    finished = wait_result(dtasks.sleep, slow.id, TaskResultStatus.SUCCESSFUL)
    assert finished.return_value == 2 and finished.finished_at >= running.started_at
    running.refresh()  # TaskResult.refresh reads the record again
    assert dataclasses.asdict(running) == dataclasses.asdict(finished)
