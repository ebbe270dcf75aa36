"""`get_current_job()`: the Job that the code calling it runs in (a job or one of its callbacks).

A context variable, set around the call by whoever runs the job: an execution process, the eager
mode or `scheduler_core.testing.drain`. Outside a job it is None.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler_core.jobs.record import Job

_current: ContextVar[Job | None] = ContextVar("taskctl_current_job", default=None)


def get_current_job() -> Job | None:
    """The running job (its `meta` can be changed and saved with `save_meta()`), or None."""
    return _current.get()


def enter(job: Job) -> Token[Job | None]:
    """Make `job` current (cheaper than `running_as`, on the worker's per-job path)."""
    return _current.set(job)


def leave(token: Token[Job | None]) -> None:
    _current.reset(token)


@contextmanager
def running_as(job: Job) -> Iterator[None]:
    token = _current.set(job)
    try:
        yield
    finally:
        _current.reset(token)
