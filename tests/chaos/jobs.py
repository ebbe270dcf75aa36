"""What the chaos tests run: each execution appends one line to a file, so runs are counted exactly."""

from __future__ import annotations

import os
import time
from typing import Any


def _append(path: str, token: str) -> None:
    # one write(2) on an O_APPEND descriptor: lines of concurrent processes never interleave
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{token} {time.time():.6f}\n".encode())
    finally:
        os.close(fd)


def mark(path: str, token: str, seconds: float = 0.0) -> str:
    """Sleep `seconds`, then count one execution of `token`."""
    if seconds:
        time.sleep(seconds)
    _append(path, token)
    return token


def tick(path: str) -> None:
    """A task's body: its runs are counted by `counted` (the success callback knows the job id)."""


def counted(job: Any, result: Any) -> None:
    """on_success callback of task jobs: one line per finished run of an occurrence (its job id)."""
    _append(job.kwargs["path"], job.id)
