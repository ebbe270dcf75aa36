"""Soft timeouts: SIGALRM raises JobTimeout inside the running job, so it can clean up.

A job that ignores it is killed by the supervisor at its hard deadline (`hard_deadline`), a
reading of the monotonic clock.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# the exceptions a job sees or is recorded with; defined beside the rule that decides their fate
from scheduler_core.jobs.failure import JobStopped, JobTimeout, WorkerLost

__all__ = ["JobStopped", "JobTimeout", "WorkerLost", "arm", "disarm", "grace", "hard_deadline", "install"]

_armed = 0.0  # seconds of the armed timer, 0 when none


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _armed:
        raise JobTimeout(f"timed out after {_armed:g}s")


def install() -> None:
    signal.signal(signal.SIGALRM, _on_alarm)


@contextmanager
def in_caller() -> Iterator[bool]:
    """Soft timeouts for jobs run in the caller's process (eager mode, drain): our SIGALRM handler
    while the block runs, the caller's own back after. Yields False off the main thread, where
    no signal handler can be set (the jobs then run without a timeout)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield False
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        yield True
    finally:
        disarm()
        signal.signal(signal.SIGALRM, previous)


def arm(seconds: float) -> None:
    global _armed
    if seconds > 0:
        _armed = seconds
        signal.setitimer(signal.ITIMER_REAL, seconds)


def disarm() -> None:
    global _armed
    if _armed:
        _armed = 0.0
        signal.setitimer(signal.ITIMER_REAL, 0)


def grace(timeout: float) -> float:
    """Seconds between the soft timeout and the hard kill: 10% of the timeout, 1 s to 10 s."""
    return min(max(timeout * 0.1, 1.0), 10.0)


def hard_deadline(started: float, timeout: float) -> float:
    """`started` and the result are monotonic-clock readings (the supervisor compares them)."""
    return started + timeout + grace(timeout) if timeout > 0 else float("inf")
