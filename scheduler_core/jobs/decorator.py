"""`@job(queue=...)`: a function that can still be called directly, plus `.delay()` to enqueue it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from scheduler_core.jobs.record import Job, Retry

P = ParamSpec("P")
R = TypeVar("R")

# `.using(...)` may change these; `queue`, `on_commit` and `using` are the enqueue's own
_CALL_OPTIONS = ("timeout", "result_ttl", "failure_ttl", "at_front", "retry", "on_success", "on_failure",
                 "on_stopped", "meta", "job_id", "at")  # fmt: skip


class DelayedFunction(Generic[P, R]):
    def __init__(
        self,
        func: Callable[P, R],
        queue: str,
        options: dict[str, Any],
        *,
        on_commit: bool | None = None,
        using: str | None = None,
    ) -> None:
        functools.update_wrapper(self, func)
        self.func = func
        self.queue = queue
        self.options = options
        self.on_commit = on_commit
        self.db_alias = using

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> Job:
        """Enqueue a call of the function on its queue, with the decorator's options. Inside
        transaction.atomic() it is sent on commit (SCHEDULER["ENQUEUE_ON_COMMIT"], or the
        decorator's / `.using()`'s `on_commit`)."""
        from scheduler_core.queues.queue import JobCall, get_queue

        return get_queue(self.queue).enqueue_call(
            JobCall(self.func, args, dict(kwargs), **self.options),
            on_commit=self.on_commit,
            using=self.db_alias,
        )

    def using(
        self,
        *,
        queue: str | None = None,
        on_commit: bool | None = None,
        using: str | None = None,
        **options: Any,
    ) -> DelayedFunction[P, R]:
        """A copy with other enqueue options, e.g. `f.using(on_commit=False).delay(1)` (send now even
        inside a transaction) or `f.using(queue="high", timeout=60).delay(1)`."""
        unknown = sorted(set(options) - set(_CALL_OPTIONS))
        if unknown:
            raise TypeError(f"unknown enqueue option(s): {', '.join(unknown)}")
        return DelayedFunction(
            self.func,
            queue or self.queue,
            {**self.options, **options},
            on_commit=self.on_commit if on_commit is None else on_commit,
            using=using or self.db_alias,
        )


def job(
    queue: str = "default",
    *,
    timeout: int | None = None,
    result_ttl: int | None = None,
    failure_ttl: int | None = None,
    at_front: bool = False,
    retry: Retry | None = None,
    on_commit: bool | None = None,
) -> Callable[[Callable[P, R]], DelayedFunction[P, R]]:
    """`on_commit`: None follows SCHEDULER["ENQUEUE_ON_COMMIT"]; False sends at once, always."""
    options: dict[str, Any] = {
        "timeout": timeout,
        "result_ttl": result_ttl,
        "failure_ttl": failure_ttl,
        "at_front": at_front,
        "retry": retry,
    }

    def wrap(func: Callable[P, R]) -> DelayedFunction[P, R]:
        return DelayedFunction(func, queue, options, on_commit=on_commit)

    return wrap
