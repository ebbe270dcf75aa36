"""`taskctl health`: exit 0 when the system can run jobs, 1 with one line per failed check."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from taskctl import bootstrap
from taskctl.render import Format, OutputOption


def health(
    output: Format | None = OutputOption,
    queue: Annotated[
        list[str] | None, typer.Option("--queue", "-q", help="Check only this queue (repeatable).")
    ] = None,
    max_oldest_queued: Annotated[
        str | None,
        typer.Option(
            "--max-oldest-queued", help="Fail when a queue's oldest queued job waited longer (90s, 5m)."
        ),
    ] = None,
    worker: Annotated[
        list[str] | None,
        typer.Option("--worker", "-w", help="Also check that this worker is live (repeatable)."),
    ] = None,
    skip: Annotated[
        list[str] | None,
        typer.Option("--skip", help="Skip a check: broker, database, scheduler, workers, ... (repeatable)."),
    ] = None,
) -> None:
    """Check the brokers, database, leader scheduler and workers: exit 0 when healthy, else 1 with
    one line per failed check (78: bad settings, 3: a bad option)."""
    from scheduler_core.errors import InvalidInput
    from scheduler_core.health import run_checks
    from scheduler_core.manifest.durations import DurationError, parse_duration
    from taskctl.render import document, dump_json, dump_yaml, resolve

    limit: float | None = None
    if max_oldest_queued is not None:
        try:
            limit = float(parse_duration(max_oldest_queued))
        except DurationError as exc:
            raise InvalidInput(f"--max-oldest-queued: {exc}") from None
    if "database" in (skip or ()):
        bootstrap.setup_broker()  # no ORM to check: no django.setup(), a quicker probe
    else:
        bootstrap.setup_django()
    checks = run_checks(queue or (), max_oldest_queued=limit, workers=worker or (), skip=skip or ())
    healthy = all(c.ok for c in checks)
    fmt = resolve(output)
    if fmt in (Format.json, Format.yaml):
        doc = document("health", {"healthy": healthy, "checks": [c.as_dict() for c in checks]})
        sys.stdout.write(dump_json(doc) + "\n" if fmt is Format.json else dump_yaml(doc))
    elif healthy:
        sys.stdout.write(f"healthy: {len(checks)} checks passed\n")
    else:
        sys.stdout.write("".join(c.line() + "\n" for c in checks if not c.ok))
    if not healthy:
        raise typer.Exit(1)
