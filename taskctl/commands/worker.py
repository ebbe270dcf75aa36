"""`taskctl worker start`: run a worker (a supervisor, its execution processes and its scheduler)."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from typing import Annotated

import typer

from taskctl import bootstrap
from taskctl.numbers import DAY, MAX_INT, seconds

app = typer.Typer(name="worker", help="Run a worker (and its scheduler).", no_args_is_help=True)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


@app.callback()
def _group() -> None:
    """Run a worker (and its scheduler)."""


@app.command("start")
def start(
    queues: Annotated[
        list[str] | None,
        typer.Argument(
            help="Queues to serve, highest priority first (default: all configured, in settings order)."
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, max=512, help="Execution processes.")
    ] = 1,
    burst: Annotated[
        bool, typer.Option("--burst", help="Run until the queues are empty, then exit 0.")
    ] = False,
    max_jobs: Annotated[
        int | None, typer.Option("--max-jobs", min=1, max=MAX_INT, help="Exit 0 after this many jobs.")
    ] = None,
    max_idle_time: Annotated[
        float | None,
        typer.Option(
            "--max-idle-time",
            min=0.1,
            callback=seconds("--max-idle-time", 365 * DAY),
            help="Exit 0 after this many seconds without a job (at most a year).",
        ),
    ] = None,
    with_scheduler: Annotated[
        bool, typer.Option("--with-scheduler/--without-scheduler", help="Run the scheduler as a subprocess.")
    ] = True,
    name: Annotated[
        str | None, typer.Option("--name", help="Worker name (default: HOST.PID); unique among live workers.")
    ] = None,
    pid_file: Annotated[
        str | None,
        typer.Option("--pid-file", help="Write the pid here; refused (exit 4) while its process lives."),
    ] = None,
    callback_timeout: Annotated[
        float,
        typer.Option(
            "--callback-timeout",
            min=0.1,
            callback=seconds("--callback-timeout", DAY),
            help="Seconds a job callback may run (at most 86400).",
        ),
    ] = 60.0,
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug | info | warning | error.", case_sensitive=False)
    ] = "info",
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="Log lines on stderr: text or json.")
    ] = LogFormat.text,
) -> None:
    """Run a worker until it is stopped: SIGTERM/SIGINT once = warm shutdown, twice = cold."""
    from scheduler_core.errors import InvalidInput

    level = log_level.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise InvalidInput(f"--log-level {log_level!r}: one of debug, info, warning, error")
    if name is not None and (not name or any(c in name for c in " \t\n*?[]")):
        raise InvalidInput(f"--name {name!r}: a worker name is non-empty, without spaces or glob characters")
    options = {
        "queues": list(queues or []),
        "concurrency": concurrency,
        "burst": burst,
        "max_jobs": max_jobs,
        "max_idle_time": max_idle_time,
        "with_scheduler": with_scheduler and not burst,
        "name": name,
        "pid_file": os.path.abspath(pid_file) if pid_file else None,
        "callback_timeout": callback_timeout,
    }
    spec = {
        "options": options,
        "log_level": level,
        "log_format": log_format.value,
        "settings": bootstrap.options.settings,
        "pythonpath": os.path.abspath(bootstrap.options.pythonpath) if bootstrap.options.pythonpath else None,
        "debug": bootstrap.options.debug,
    }
    # A fresh interpreter (same pid) without the CLI's modules: the supervisor and every process
    # forked from it hold only what a worker needs (see scheduler_core/worker/__main__.py). It
    # sets Django up and checks settings and queues itself (same one-line errors, same exit codes),
    # so that start-up pays for Django once.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "scheduler_core.worker", json.dumps(spec)])
