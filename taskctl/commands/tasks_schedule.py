"""`taskctl tasks next | run`: a task's coming occurrences, and one run now."""

from __future__ import annotations

from typing import Annotated

import typer

from taskctl import bootstrap
from taskctl.render import Format, OutputOption

NEXT_COLUMNS = [("n", "#"), ("local", "local time"), ("offset", "offset"), ("utc", "UTC"), ("note", "note")]


def tasks_next(
    name: Annotated[str, typer.Argument(help="The task's name.")],
    count: Annotated[int, typer.Option("--count", "-n", help="How many occurrences (1-1000).")] = 5,
    output: Format | None = OutputOption,
) -> None:
    """The task's next occurrences, in its timezone and in UTC; DST shifts are marked."""
    from scheduler_core.scheduler.upcoming import upcoming
    from taskctl.render import emit, resolve

    bootstrap.setup_django()
    bootstrap.check_database()
    data = upcoming(name, count)
    fmt = resolve(output)
    title = f"{data['name']} ({data['timezone']})" + ("" if data["enabled"] else " - disabled")
    emit(fmt, "task-occurrences", "occurrences", data["occurrences"], NEXT_COLUMNS, title=title,
         extra={"name": data["name"], "timezone": data["timezone"], "enabled": data["enabled"]})  # fmt: skip


def tasks_run(
    name: Annotated[str, typer.Argument(help="The task's name.")],
    output: Format | None = OutputOption,
) -> None:
    """Enqueue one run of the task now, outside its schedule; prints the job id."""
    from scheduler_core.broker.connection import check
    from scheduler_core.conf import get_config
    from scheduler_core.scheduler.upcoming import run_now
    from taskctl.render import emit_object, info, resolve

    bootstrap.setup_django()
    bootstrap.check_database()
    config = get_config()
    check(config.broker_url, config.connect_timeout)
    job = run_now(name)
    fmt = resolve(output)
    if fmt in (Format.json, Format.yaml):
        emit_object(fmt, "task-run", {"name": name, "job_id": job.id, "queue": job.queue})
    else:
        typer.echo(job.id)
        info(f"task {name!r}: job {job.id} queued on {job.queue!r}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `taskctl tasks`."""
    app.command("next")(tasks_next)
    app.command("run")(tasks_run)
