"""The scheduler as a supervised child process of `worker start` (unless --without-scheduler).

It is forked from the supervisor (after Django is set up, with DB connections closed), so it
shares the supervisor's memory pages instead of loading a second interpreter, and runs
`scheduler_core.scheduler.run_forever()`. If it exits it is restarted with a growing delay
(1 s doubling up to 60 s, reset after a minute of running). The first exit is a warning, repeats
are debug lines, so a scheduler that cannot run does not flood the worker's log.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import time

from django.db import connections

from scheduler_core.errors import TaskctlError
from scheduler_core.worker import forking
from scheduler_core.worker.executor import set_parent_death_signal

log = logging.getLogger("taskctl.worker")


def _child() -> int:
    set_parent_death_signal()
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGUSR1, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    try:
        # imported here: warm_scheduler() may have found it not importable (one logged line)
        from scheduler_core.scheduler import run_forever  # noqa: PLC0415

        run_forever()  # installs its own SIGTERM / SIGINT handling: a clean stop
        return 0
    except TaskctlError as exc:  # e.g. a database without taskctl's tables: one line, then a retry
        log.error("the scheduler stopped: %s", exc)
        return exc.exit_code
    except Exception:
        log.exception("the scheduler crashed")
        return 70


def warm_scheduler() -> None:
    """Import, before the fork, what the scheduler would otherwise import on its first pass
    (its modules, the ORM's SQL compiler, the database backend): pages loaded in the supervisor
    are shared with the child, pages loaded in the child are its own."""
    for name in (
        "scheduler_core.scheduler",
        "scheduler_core.scheduler.planner",
        "scheduler_core.scheduler.recovery",
        "scheduler_core.scheduler.occurrences",
        "scheduler_core.models",
        "django.db.models.sql.compiler",
        "croniter",
    ):
        importlib.import_module(name)
    for alias in connections:
        connections[alias].ops  # noqa: B018  # the backend modules, without connecting


class SchedulerProcess:
    def __init__(self) -> None:
        try:  # imported here, once: the forked scheduler shares these pages with the supervisor
            warm_scheduler()
        except ImportError as exc:
            log.warning("the scheduler cannot be imported: %s", exc)
        self.pid: int | None = None
        self.started = 0.0
        self.restart_at = 0.0
        self.delay = 1.0
        self.exits = 0

    def start(self, now: float) -> None:
        self.pid, self.started = forking.fork(_child, "scheduler process"), now
        log.debug("scheduler started (pid %d)", self.pid)

    def poll(self, now: float) -> None:
        """Restart the scheduler if it exited (after its back-off delay)."""
        if self.pid is not None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, 0
            if pid == 0:
                if now - self.started > 60:
                    self.delay = 1.0
                return
            self.pid = None
            self.exits += 1
            level = logging.WARNING if self.exits == 1 else logging.DEBUG
            log.log(level, "the scheduler exited (%s); restarting in %gs", _how(status), self.delay)
            self.restart_at = now + self.delay
            self.delay = min(self.delay * 2, 60.0)
        if now >= self.restart_at:
            self.start(now)

    def stop(self, timeout: float = 10.0) -> None:
        pid, self.pid = self.pid, None
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:
                return
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _how(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"signal {-code}" if code < 0 else f"exit code {code}"
