"""The READY TaskResult that `enqueue` returns, built cheaply: it is most of what the backend adds
to an enqueue. Same values as `TaskResult(...)` would hold, Django's JSON rule included; when the
installed TaskResult has fields this module does not know, the constructor is used instead."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from scheduler_core.backend.compat import AnyResult, AnyTask, TaskResult, TaskResultStatus, normalize_json

_SCALARS = frozenset({str, int, float, bool, type(None)})
_KNOWN = frozenset({
    "task", "id", "status", "enqueued_at", "started_at", "finished_at", "last_attempted_at", "args",
    "kwargs", "backend", "errors", "worker_ids", "_return_value",
})  # fmt: skip
_FAST = {f.name for f in dataclasses.fields(TaskResult)} == _KNOWN


def json_args(args: Any) -> list[Any]:
    """normalize_json(args), without its walk for the usual flat arguments."""
    if type(args) in (tuple, list) and all(type(a) in _SCALARS for a in args):
        return list(args)
    normal: list[Any] = normalize_json(args)  # type: ignore[assignment]
    return normal


def json_kwargs(kwargs: Any) -> dict[str, Any]:
    if type(kwargs) is dict and all(type(k) is str and type(v) in _SCALARS for k, v in kwargs.items()):
        return dict(kwargs)
    normal: dict[str, Any] = normalize_json(kwargs)  # type: ignore[assignment]
    return normal


def ready_result(
    task: AnyTask, result_id: str, enqueued_at: datetime, args: Any, kwargs: Any, backend: str
) -> AnyResult:
    if not _FAST:
        result: AnyResult = TaskResult(
            task=task, id=result_id, status=TaskResultStatus.READY, enqueued_at=enqueued_at,
            started_at=None, finished_at=None, last_attempted_at=None, args=args, kwargs=kwargs,
            backend=backend, errors=[], worker_ids=[],
        )  # fmt: skip
        return result
    result = object.__new__(TaskResult)
    put = object.__setattr__  # frozen: how Django's own code sets its fields
    put(result, "task", task)
    put(result, "id", result_id)
    put(result, "status", TaskResultStatus.READY)
    put(result, "enqueued_at", enqueued_at)
    put(result, "started_at", None)
    put(result, "finished_at", None)
    put(result, "last_attempted_at", None)
    put(result, "args", json_args(args))
    put(result, "kwargs", json_kwargs(kwargs))
    put(result, "backend", backend)
    put(result, "errors", [])
    put(result, "worker_ids", [])
    put(result, "_return_value", None)
    return result
