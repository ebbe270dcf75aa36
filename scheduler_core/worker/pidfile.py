"""--pid-file: written at start, removed at exit; a pid file of a live process is refused (exit 4)."""

from __future__ import annotations

import contextlib
import os

from scheduler_core.errors import Conflict, InvalidInput


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PidFile:
    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.pid = os.getpid()

    def acquire(self) -> None:
        try:
            with open(self.path) as f:
                text = f.read().strip()
        except FileNotFoundError:
            text = ""
        except OSError as exc:
            raise InvalidInput(f"pid file {self.path}: {exc.strerror}") from None
        if text.isdigit() and int(text) != self.pid and alive(int(text)):
            raise Conflict(f"pid file {self.path} belongs to running process {text}")
        tmp = f"{self.path}.{self.pid}.tmp"
        try:
            with open(tmp, "w") as f:
                f.write(f"{self.pid}\n")
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise InvalidInput(f"pid file {self.path}: {exc.strerror}") from None

    def release(self) -> None:
        try:
            with open(self.path) as f:
                mine = f.read().strip() == str(self.pid)
            if mine:
                os.unlink(self.path)
        except OSError:
            pass
