"""`taskctl queues`: inspect (read-only, optionally live) and clear queues."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from taskctl import bootstrap
from taskctl.numbers import DAY, MAX_INT, seconds
from taskctl.render import Format, OutputOption

if TYPE_CHECKING:
    from scheduler_core.inspect import QueueSnapshot

app = typer.Typer(name="queues", help="Inspect and clear queues.", no_args_is_help=True)

REGISTRY_FIELDS = ("scheduled", "queued", "active", "finished", "failed", "canceled")
COLUMNS = [
    ("name", "queue"),
    *((r, r) for r in REGISTRY_FIELDS),
    ("workers", "workers"),
    ("oldest_queued_age", "oldest queued"),
    ("broker", "broker"),
]
NUMERIC = (*REGISTRY_FIELDS, "workers", "oldest_queued_age")


def age_text(seconds: float | None) -> str:
    """A short age for people: 7s, 3m05s, 2h03m, 1d04h ("-" when nothing is queued)."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _for_people(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "oldest_queued_age": age_text(row.get("oldest_queued_age"))}


def snapshot_table(snap: QueueSnapshot, title: str | None = None) -> Any:
    """The table people see. When every queue is on one broker, the broker is named once, in the
    title, instead of on every row."""
    from taskctl.render import table

    columns = COLUMNS
    brokers = {r["broker"] for r in snap.queues}
    if len(brokers) == 1:
        columns = [c for c in COLUMNS if c[0] != "broker"]
        title = (f"{title}  " if title else "") + f"broker {brokers.pop()}"
    return table(
        [_for_people(r) for r in snap.queues],
        columns,
        title=title,
        footer=_for_people(snap.totals),
        keep=("name",),
        right=NUMERIC,
        drop=("broker", "oldest_queued_age", "workers"),
    )


def print_snapshot(snap: QueueSnapshot, fmt: Format, *, stream: bool = False) -> None:
    """One reading in `fmt`. `stream` (watch off a TTY): JSON compact on one line, YAML as `---` docs,
    table and plain followed by a blank line."""
    from taskctl.render import console, document, dump_json, dump_yaml, plain_line

    if fmt in (Format.json, Format.yaml):
        doc = document("queues", {"queues": snap.queues, "totals": snap.totals})
        if fmt is Format.json:
            sys.stdout.write(dump_json(doc, compact=stream) + "\n")
        else:
            sys.stdout.write(("---\n" if stream else "") + dump_yaml(doc))
    elif fmt is Format.plain:
        sys.stdout.write("".join(plain_line(r.get(f) for f, _ in COLUMNS) + "\n" for r in snap.queues))
        if stream:
            sys.stdout.write("\n")
    else:
        console().print(snapshot_table(snap))
        if stream:
            sys.stdout.write("\n")
    sys.stdout.flush()


def _readings(names: list[str], interval: float, count: int | None) -> Iterator[QueueSnapshot]:
    from scheduler_core.inspect import queue_stats

    n = 0
    while True:
        yield queue_stats(names)
        n += 1
        if count is not None and n >= count:
            return
        time.sleep(interval)


def _title(snap: QueueSnapshot, interval: float) -> str:
    stamp = time.strftime("%H:%M:%S", time.gmtime(snap.taken_at))
    return f"queues at {stamp} UTC, every {interval:g}s (Ctrl-C to quit)"


@app.command("show")
def show(
    queues: Annotated[
        list[str] | None, typer.Argument(help="Queues to show (default: all configured).")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh until Ctrl-C.")] = False,
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            min=0.1,
            callback=seconds("--interval", DAY),
            help="Seconds between readings (0.1 to 86400).",
        ),
    ] = 2.0,
    count: Annotated[
        int | None, typer.Option("--count", min=1, max=MAX_INT, hidden=True, help="Stop after N readings.")
    ] = None,
    output: Format | None = OutputOption,
) -> None:
    """Job counts per registry, workers and the oldest queued job's age (read-only)."""
    from taskctl.render import resolve

    bootstrap.setup_broker()
    names = list(queues or [])
    fmt = resolve(output)
    if not watch:
        from scheduler_core.inspect import queue_stats

        print_snapshot(queue_stats(names), fmt)
        return
    try:
        if fmt is Format.table and sys.stdout.isatty():
            from taskctl.render import live

            live(snapshot_table(s, _title(s, interval)) for s in _readings(names, interval, count))
        else:
            for snap in _readings(names, interval, count):
                print_snapshot(snap, fmt, stream=True)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command("clear")
def clear(
    queue: Annotated[str, typer.Argument(help="The queue to clear.")],
    registry: Annotated[
        str, typer.Option("--registry", "-r", help="scheduled | queued | finished | failed | canceled")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (needed off a TTY).")] = False,
    output: Format | None = OutputOption,
) -> None:
    """Delete every job in one registry of a queue (never the active one)."""
    from scheduler_core.broker.keys import REGISTRIES
    from scheduler_core.errors import UsageError
    from scheduler_core.inspect import broker_errors
    from scheduler_core.queues.queue import get_queue
    from taskctl.render import emit_object, info, resolve

    bootstrap.setup_broker()
    q = get_queue(queue)
    if registry == "active" or registry not in REGISTRIES:
        q.clear(registry)  # raises the one-line reason (exit 3) before anything is written
    with broker_errors(q.broker_url):
        n = q.count(registry)
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError(f"clearing {registry} of queue {queue!r} needs --yes when not on a terminal")
            if not typer.confirm(f"Delete all {n} {registry} job(s) of queue {queue!r}?", err=True):
                info("nothing deleted")
                return
        cleared = q.clear(registry)
    fmt = resolve(output)
    if fmt in (Format.json, Format.yaml):
        emit_object(fmt, "queue-clear", {"queue": queue, "registry": registry, "deleted": cleared})
    else:
        info(f"deleted {cleared} {registry} job(s) from queue {queue!r}")
