"""Running one job in an execution process: the call, its result or failure, and what follows
(callbacks and the owning task's bookkeeping). No broker writes here: executor.py records."""

from __future__ import annotations

import asyncio
import inspect
import logging
import traceback as tb_module
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scheduler_core.callables import resolve
from scheduler_core.jobs.record import Job, JobStatus, dumps
from scheduler_core.tasks.runs import record_or_defer, record_run
from scheduler_core.worker import timeouts
from scheduler_core.worker.current import running_job

log = logging.getLogger("taskctl.worker")

_MAX_TRACEBACK = 64 * 1024


@dataclass
class Ran:
    """What a call produced: a result, or an exception (with its formatted traceback)."""

    ok: bool
    result: Any = None
    exc: BaseException | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # the record's result / failure fields


class Callables:
    """Dotted path -> (callable, is coroutine function), resolved and checked once per process."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        self.cache: dict[str, tuple[Callable[..., Any], bool]] = {}

    def get(self, path: str) -> tuple[Callable[..., Any], bool]:
        entry = self.cache.get(path)
        if entry is None:
            func = resolve(path, self.allowed)
            entry = self.cache[path] = (func, inspect.iscoroutinefunction(func))
        return entry


def call(
    func: Callable[..., Any], is_async: bool, args: list[Any], kwargs: dict[str, Any], timeout: float
) -> Any:
    """Call under the soft timeout; `async def` callables (and returned coroutines) run to completion."""
    timeouts.arm(timeout)
    try:
        result = func(*args, **kwargs)
        if is_async or inspect.iscoroutine(result):
            result = asyncio.run(result)
        return result
    finally:
        timeouts.disarm()


def run(
    callables: Callables, job: Job, max_result_bytes: int | None = None, *, timeouts_on: bool = True
) -> Ran:
    """Call the job (as `get_current_job()`); `timeouts_on=False` where no SIGALRM can be used."""
    token = running_job.set(job)
    try:
        func, is_async = callables.get(job.callable)
        result = call(func, is_async, job.args, job.kwargs, job.timeout if timeouts_on else 0)
    except BaseException as exc:  # a job may raise anything, SystemExit included
        return Ran(False, exc=exc, fields=failure_fields(exc, tb_module.format_exc()))
    finally:
        running_job.reset(token)
    return Ran(True, result=result, fields=result_fields(result, max_result_bytes))


def result_fields(result: Any, max_bytes: int | None = None) -> dict[str, Any]:
    """The result as JSON, or its repr (as a JSON string, marked) when it is not JSON. A result
    over `max_bytes` (MAX_RESULT_BYTES) is replaced by a marker string naming its size, marked as
    a repr too: the job still finishes, and no write can pass Redis's 512 MB value limit."""
    try:
        fields: dict[str, Any] = {"result": dumps(result, "result")}
    except Exception:
        fields = {"result": dumps(_safe_repr(result), "result"), "result_repr": "1"}
    size = len(fields["result"])
    if max_bytes is not None and max_bytes > 0 and size > max_bytes:
        marker = f"<result not stored: {size} bytes of JSON, over MAX_RESULT_BYTES ({max_bytes})>"
        return {"result": dumps(marker, "result"), "result_repr": "1", "result_bytes": size}
    return fields


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[:_MAX_TRACEBACK]
    except Exception as exc:
        return f"<unrepresentable {type(value).__name__}: {exc!r}>"


def exc_name(exc: BaseException) -> str:
    cls = type(exc)
    return (
        cls.__qualname__
        if cls.__module__ in ("builtins", "scheduler_core.jobs.failure")
        else f"{cls.__module__}.{cls.__qualname__}"
    )


def failure_fields(exc: BaseException, traceback: str = "") -> dict[str, Any]:
    try:
        message = str(exc)
    except Exception:
        message = "<str() failed>"
    return {
        "exc_type": exc_name(exc),
        "exc_message": message[:_MAX_TRACEBACK],
        "traceback": traceback[-_MAX_TRACEBACK:],
    }


# ----- after the job ended: callbacks and the task's bookkeeping -----
@dataclass
class AfterWork:
    """Work that follows a job's last outcome; runs in an execution process, never the supervisor."""

    job: Job
    status: JobStatus  # finished | failed | stopped
    result: Any = None
    exc_type: str = ""
    exc_message: str = ""
    traceback: str = ""

    @property
    def callback(self) -> tuple[str, tuple[Any, ...]]:
        j = self.job
        if self.status is JobStatus.FINISHED:
            return j.on_success, (j, self.result)
        if self.status is JobStatus.STOPPED:
            return j.on_stopped, (j,)
        return j.on_failure, (j, self.exc_type, self.exc_message, self.traceback)


def run_callback(work: AfterWork, callables: Callables, callback_timeout: float) -> None:
    """Run the job's callback (if it has one for this outcome) under its own timeout; log failures.
    `callback_timeout` 0: no timeout (where no SIGALRM can be used)."""
    path, args = work.callback
    if path:
        token = running_job.set(work.job)
        try:
            func, is_async = callables.get(path)
            call(func, is_async, list(args), {}, callback_timeout)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            log.warning("job %s: callback %s failed: %s: %s", work.job.id, path, exc_name(exc), exc,
                        extra={"job_id": work.job.id, "callback": path})  # fmt: skip
        finally:
            running_job.reset(token)


def record_task_run(work: AfterWork, *, reconnect: bool = True) -> None:
    """Record the run on the job's task. `reconnect=False` in the caller's process (eager, drain):
    its connection (perhaps inside a test's transaction) is used as it is, and an error shows."""
    job = work.job
    assert job.task_id is not None
    try:  # a database outage defers the bookkeeping to the scheduler (runs.py): nothing is lost
        ended = job.ended_at or datetime.now(UTC)
        if reconnect:
            record_or_defer(job.task_id, job.occurrence, work.status.value, ended, job.id)
        else:
            record_run(job.task_id, job.occurrence, work.status.value, ended)
    except Exception as exc:
        log.warning("job %s: recording the run of task %s failed: %r", job.id, job.task_id, exc,
                    extra={"job_id": job.id, "task_id": job.task_id})  # fmt: skip
