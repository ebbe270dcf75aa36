"""The partition tests' job: it counts its executions in a file, since a worker cut off from
Redis cannot write there."""

from __future__ import annotations

import os
import time


def execution(path: str, token: str, seconds: float = 0.0) -> str:
    """Append `token supervisor-pid` to `path` (one line per execution), sleep, return the line.

    The parent's pid is the worker's supervisor: it tells which worker ran this execution, and the
    result tells whose outcome was recorded."""
    line = f"{token} {os.getppid()}"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    if seconds:
        time.sleep(seconds)
    return line
