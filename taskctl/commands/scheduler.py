"""`taskctl scheduler`: Run the scheduler alone, or one pass of it."""

from __future__ import annotations

import typer

from taskctl import bootstrap
from taskctl.render import Format, OutputOption

app = typer.Typer(name="scheduler", help="Run the scheduler alone, or one pass of it.", no_args_is_help=True)

COLUMNS = [
    ("leader", "leader"),
    ("recovered", "recovered"),
    ("tasks", "tasks"),
    ("planned", "planned"),
    ("skipped", "skipped"),
    ("promoted", "promoted"),
    ("reaped", "reaped"),
    ("next_pass", "next pass"),
    ("seconds", "seconds"),
]


def _ready() -> None:
    from scheduler_core.broker.connection import check
    from scheduler_core.conf import get_config

    bootstrap.setup_django()
    bootstrap.check_database()
    config = get_config()
    check(config.broker_url, config.connect_timeout)


@app.command("tick")
def tick(output: Format | None = OutputOption) -> None:
    """Run one scheduler pass (plan due tasks, queue due jobs, recover lost ones), then exit."""
    from datetime import UTC, datetime

    from scheduler_core.scheduler import Scheduler
    from taskctl.render import emit, emit_object, info, resolve

    _ready()
    sched = Scheduler()
    try:
        result = sched.run_once()
    finally:
        sched.leader.release()  # a one-off pass must not keep the lock from the next one
    data = result.as_dict()
    data.pop("wake_at")
    data["next_pass"] = datetime.fromtimestamp(result.wake_at, UTC)
    data["seconds"] = round(result.seconds, 4)
    if not result.leader:
        info("another scheduler holds the lock: this pass did nothing")
    fmt = resolve(output)
    if fmt in (Format.json, Format.yaml):
        emit_object(fmt, "scheduler-pass", data)
    else:  # one row: reaped = jobs of dead workers, recovered = jobs re-planned after a broker loss
        emit(fmt, "scheduler-pass", "passes", [data], COLUMNS)


@app.command("start")
def start() -> None:
    """Run the scheduler loop alone (one leader per broker; others stand by). SIGTERM/Ctrl-C stop it."""
    import logging

    from scheduler_core.scheduler import run_forever

    _ready()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_forever()
