"""`taskctl workers`: inspect running workers and send them commands."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from taskctl import bootstrap
from taskctl.render import Format, OutputOption

app = typer.Typer(name="workers", help="Inspect and command running workers.", no_args_is_help=True)

COLUMNS = [
    ("name", "name"),
    ("host", "host"),
    ("pid", "pid"),
    ("queues", "queues"),
    ("state", "state"),
    ("current_jobs", "current jobs"),
    ("jobs_done", "done"),
    ("jobs_failed", "failed"),
    ("started_at", "started (UTC)"),
    ("last_heartbeat", "last heartbeat (UTC)"),
]


def _broker_url() -> str:
    from scheduler_core.conf import get_config

    return get_config().broker_url


def _done(fmt: Format | None, action: str, name: str, message: str, **extra: Any) -> None:
    from taskctl.render import emit_object, info, resolve

    if resolve(fmt) in (Format.json, Format.yaml):
        emit_object(fmt, "worker-action", {"action": action, "name": name, **extra})
    else:
        info(message)


@app.command("list")
def list_workers(output: Format | None = OutputOption) -> None:
    """Running workers: host, pid, queues, state, current jobs, counters and last heartbeat."""
    from scheduler_core.inspect import broker_errors
    from scheduler_core.worker import control
    from taskctl.render import emit

    bootstrap.setup_broker()
    with broker_errors(_broker_url()):
        workers = control.list_workers()
    emit(
        output,
        "workers",
        "workers",
        workers,
        COLUMNS,
        keep=("name",),
        right=("pid", "jobs_done", "jobs_failed"),
        nowrap=("started_at", "last_heartbeat", "host", "state"),
        drop=("started_at", "host", "pid", "jobs_failed", "jobs_done", "last_heartbeat"),
    )


@app.command("stop")
def stop(
    name: Annotated[str, typer.Argument(help="The worker's name (see `taskctl workers list`).")],
    now: Annotated[
        bool, typer.Option("--now", help="Stop running jobs now (cold) instead of finishing them.")
    ] = False,
    output: Format | None = OutputOption,
) -> None:
    """Ask a worker to shut down: warm (finish running jobs) or, with --now, cold."""
    from scheduler_core.inspect import broker_errors
    from scheduler_core.worker import control

    bootstrap.setup_broker()
    with broker_errors(_broker_url()):
        control.stop_worker(name, now=now)
    how = "now (cold)" if now else "after its running jobs (warm)"
    _done(output, "stop-requested", name, f"asked worker {name} to stop {how}", now=now)


@app.command("suspend")
def suspend(
    name: Annotated[str, typer.Argument(help="The worker's name.")],
    output: Format | None = OutputOption,
) -> None:
    """Ask a worker to take no new jobs until resumed."""
    from scheduler_core.inspect import broker_errors
    from scheduler_core.worker import control

    bootstrap.setup_broker()
    with broker_errors(_broker_url()):
        control.suspend_worker(name)
    _done(output, "suspend-requested", name, f"asked worker {name} to suspend")


@app.command("resume")
def resume(
    name: Annotated[str, typer.Argument(help="The worker's name.")],
    output: Format | None = OutputOption,
) -> None:
    """Ask a suspended worker to take jobs again."""
    from scheduler_core.inspect import broker_errors
    from scheduler_core.worker import control

    bootstrap.setup_broker()
    with broker_errors(_broker_url()):
        control.resume_worker(name)
    _done(output, "resume-requested", name, f"asked worker {name} to resume")
