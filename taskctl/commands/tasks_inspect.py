"""`taskctl tasks list | show | enable | disable | delete`: look at tasks and act on one by name."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from taskctl import bootstrap
from taskctl.render import Format, OutputOption

COLUMNS = [
    ("name", "name"),
    ("type", "type"),
    ("schedule", "schedule"),
    ("timezone", "timezone"),
    ("queue", "queue"),
    ("enabled", "enabled"),
    ("set", "set"),
    ("next_run_at", "next run"),
    ("last_run_at", "last run"),
    ("last_status", "last status"),
    ("invalid_reason", "invalid reason"),
]


def _db() -> None:
    bootstrap.setup_django()
    bootstrap.check_database()


# Spec fields held in seconds: `tasks show` gives them as a manifest declares them (15m, 1h30m).
_DURATIONS = ("interval", "timeout", "result_ttl", "failure_ttl")


def _duration(seconds: int) -> str:
    from scheduler_core.manifest.durations import format_compact

    return "forever" if seconds < 0 else format_compact(seconds)


def _flat(detail: dict[str, Any], for_people: bool) -> dict[str, Any]:
    """`tasks show` off JSON: spec fields, then status fields, on one key/value list. For people
    (the table) durations are in manifest units and times carry their zone; plain keeps seconds."""
    from taskctl.render import compact_json

    out: dict[str, Any] = {"name": detail["name"], "set": detail["set"] or "(made by hand)"}
    out["schedule"] = detail["schedule"]
    for key, value in detail["spec"].items():
        if value in (None, "", [], {}) and key not in ("enabled",):
            continue
        if for_people and key in _DURATIONS and isinstance(value, int):
            out[key] = _duration(value)
        elif for_people and key == "retry_backoff" and isinstance(value, list):
            out[key] = ", ".join(_duration(int(v)) for v in value)
        elif key in ("args", "kwargs", "retry_backoff"):
            out[key] = compact_json(value)
        else:
            out[key] = value
    for key, value in detail["status"].items():
        out[key] = f"{value:%Y-%m-%d %H:%M:%S} UTC" if for_people and isinstance(value, datetime) else value
    return out


# For people, at 120 columns: the type and the cron timezone are in the schedule's words ("cron 0 3
# * * * (Europe/Berlin)", "every 15m", "once at ..."), times are to the minute, the last run carries
# its status, and only the schedule wraps. Plain, JSON and YAML keep every field apart.
TABLE_COLUMNS = [
    ("name", "name"),
    ("schedule", "schedule"),
    ("queue", "queue"),
    ("enabled", "on"),
    ("set", "set"),
    ("next_run_at", "next run (UTC)"),
    ("last_run", "last run (UTC)"),
]


def _minute(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else None


def _for_people(row: dict[str, Any]) -> dict[str, Any]:
    last = _minute(row["last_run_at"])
    if last and row["last_status"]:
        last += f" {row['last_status']}"
    reason = row.get("invalid_reason")
    if reason:  # quarantined: the reason, where people look first (whole in plain / json / show)
        last = f"invalid: {reason if len(reason) <= 40 else reason[:39] + '…'}"
    return {**row, "next_run_at": _minute(row["next_run_at"]), "last_run": last}


def tasks_list(output: Format | None = OutputOption) -> None:
    """Every task: type, schedule in words, timezone, queue, enabled, set, next and last run."""
    from scheduler_core.inspect import task_rows
    from taskctl.render import emit, resolve

    _db()
    rows = task_rows()
    fmt = resolve(output)
    if fmt is not Format.table:
        emit(fmt, "tasks", "tasks", rows, COLUMNS)
        return
    emit(
        fmt,
        "tasks",
        "tasks",
        [_for_people(r) for r in rows],
        TABLE_COLUMNS,
        keep=("name",),
        nowrap=("next_run_at", "last_run", "queue", "set"),
        drop=("set", "queue", "last_run", "enabled"),
    )


def tasks_show(
    name: Annotated[str, typer.Argument(help="The task's name.")],
    output: Format | None = OutputOption,
) -> None:
    """One task: its spec (as declared) and its status (as observed by the scheduler)."""
    from scheduler_core.inspect import task_detail
    from taskctl.render import emit_object, resolve

    _db()
    detail = task_detail(name)
    fmt = resolve(output)
    emit_object(
        fmt, "task", detail if fmt in (Format.json, Format.yaml) else _flat(detail, fmt is Format.table)
    )


def _acted(output: Format | None, action: str, name: str, changed: bool, message: str) -> None:
    from taskctl.render import emit_object, info, resolve

    if resolve(output) in (Format.json, Format.yaml):
        emit_object(output, "task-action", {"action": action, "name": name, "changed": changed})
    else:
        info(message)


def tasks_enable(
    name: Annotated[str, typer.Argument(help="The task's name.")],
    output: Format | None = OutputOption,
) -> None:
    """Enable a task: the scheduler plans its next run."""
    from scheduler_core.tasks.actions import set_enabled

    _db()
    change = set_enabled(name, True)
    _acted(
        output,
        "enabled",
        name,
        change.changed,
        f"task {name!r} " + ("enabled" if change.changed else "was already enabled"),
    )


def tasks_disable(
    name: Annotated[str, typer.Argument(help="The task's name.")],
    output: Format | None = OutputOption,
) -> None:
    """Disable a task: its pending job is removed and no new one is planned."""
    from scheduler_core.tasks.actions import set_enabled

    _db()
    change = set_enabled(name, False)
    _acted(
        output,
        "disabled",
        name,
        change.changed,
        f"task {name!r} " + ("disabled" if change.changed else "was already disabled"),
    )


def tasks_delete(
    name: Annotated[str, typer.Argument(help="The task's name.")],
    output: Format | None = OutputOption,
) -> None:
    """Delete a task and its pending job."""
    from scheduler_core.tasks.actions import delete_task
    from taskctl.render import warn

    _db()
    change = delete_task(name)
    if change.set_name:
        owner = change.set_name
        warn(f"task {name!r} belongs to set {owner!r}: the next `tasks apply` of that set re-creates it")
    _acted(output, "deleted", name, True, f"task {name!r} deleted")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `taskctl tasks`."""
    app.command("list")(tasks_list)
    app.command("show")(tasks_show)
    app.command("enable")(tasks_enable)
    app.command("disable")(tasks_disable)
    app.command("delete")(tasks_delete)
