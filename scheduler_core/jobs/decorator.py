"""`@job(queue=...)`: a function that can still be called directly, plus `.delay()` to enqueue it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from scheduler_core.jobs.record import Job, Retry

P = ParamSpec("P")
R = TypeVar("R")


class DelayedFunction(Generic[P, R]):
    def __init__(self, func: Callable[P, R], queue: str, options: dict[str, Any]) -> None:
        functools.update_wrapper(self, func)
        self.func = func
        self.queue = queue
        self.options = options

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> Job:
        """Enqueue a call of the function on its queue, with the decorator's options."""
        from scheduler_core.queues.queue import JobCall, get_queue

        return get_queue(self.queue).enqueue_call(JobCall(self.func, args, dict(kwargs), **self.options))


def job(
    queue: str = "default",
    *,
    timeout: int | None = None,
    result_ttl: int | None = None,
    failure_ttl: int | None = None,
    at_front: bool = False,
    retry: Retry | None = None,
) -> Callable[[Callable[P, R]], DelayedFunction[P, R]]:
    options: dict[str, Any] = {
        "timeout": timeout,
        "result_ttl": result_ttl,
        "failure_ttl": failure_ttl,
        "at_front": at_front,
        "retry": retry,
    }

    def wrap(func: Callable[P, R]) -> DelayedFunction[P, R]:
        return DelayedFunction(func, queue, options)

    return wrap
