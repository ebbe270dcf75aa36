"""`taskctl jobs`: list, show, enqueue, requeue, cancel, stop and delete jobs (broker only, no DB)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from taskctl import bootstrap
from taskctl.numbers import MAX_INT
from taskctl.render import Format, OutputOption

app = typer.Typer(name="jobs", help="Inspect and act on jobs.", no_args_is_help=True)

# The time shown in `jobs list` depends on the registry: when it is due, queued, started or ended.
_TIME_FIELD = {
    "scheduled": "due_at",
    "queued": "enqueued_at",
    "active": "started_at",
    "finished": "ended_at",
    "failed": "ended_at",
    "canceled": "ended_at",
}
_TEXT_FIELDS = ("args", "kwargs", "result", "meta")


def _json_text(value: Any) -> str:
    from taskctl.render import compact_json

    return compact_json(value)


def _acted(fmt: Format | None, action: str, job_id: str, queue: str, message: str, **extra: Any) -> None:
    """The result of an action: a document for json / yaml, else one line on stderr."""
    from taskctl.render import emit_object, info, resolve

    if resolve(fmt) in (Format.json, Format.yaml):
        emit_object(fmt, "job-action", {"action": action, "id": job_id, "queue": queue, **extra})
    else:
        info(message)


def _task_name(task_id: int) -> str | None:
    """The task's name is in the database: only a job made by a task pays for setting Django up."""
    from scheduler_core.inspect import task_name

    bootstrap.setup_django()
    return task_name(task_id)


@app.command("list")
def list_jobs(
    queue: Annotated[str, typer.Argument(help="The queue.")],
    registry: Annotated[
        str,
        typer.Option("--registry", "-r", help="scheduled | queued | active | finished | failed | canceled"),
    ] = "queued",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10000, help="Jobs per page.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, max=MAX_INT, help="Jobs to skip.")] = 0,
    output: Format | None = OutputOption,
) -> None:
    """One page of a registry's jobs: queued in pick-up order, scheduled by due time, others newest first."""
    from scheduler_core.inspect import job_page
    from taskctl.render import clip, emit, resolve

    bootstrap.setup_broker()
    records, total = job_page(queue, registry, offset=offset, limit=limit)
    fmt = resolve(output)
    if fmt in (Format.json, Format.yaml):
        extra = {"queue": queue, "registry": registry, "offset": offset, "limit": limit, "total": total}
        emit(fmt, "jobs", "jobs", records, [], extra=extra)
        return
    when = _TIME_FIELD[registry]
    fit = clip if fmt is Format.table else str
    for r in records:
        r["args"] = fit(_json_text(r["args"]))
        r["kwargs"] = fit(_json_text(r["kwargs"]))
        r["time"] = r[when]
        r["error"] = ": ".join(x for x in (r.get("exc_type"), _first_line(r.get("exc_message"))) if x) or None
    columns = [
        ("id", "id"),
        ("status", "status"),
        ("callable", "callable"),
        ("args", "args"),
        ("kwargs", "kwargs"),
        ("time", when.replace("_at", "") + " (UTC)"),
        ("worker", "worker"),
        ("attempt", "attempt"),
    ]
    if registry in ("failed", "canceled"):
        columns.append(("error", "error"))
    title = (
        f"{registry} jobs of {queue}: {offset + 1}-{offset + len(records)} of {total}" if records else None
    )
    if fmt is Format.table:
        # A 32-character id leaves little room at 80 columns: show unique prefixes (as git does),
        # which every `jobs` command takes back. Plain output keeps whole ids for scripts.
        from scheduler_core.queues.queue import unique_prefixes

        for r, short in zip(records, unique_prefixes([r["id"] for r in records]), strict=True):
            r["id"] = short
    emit(
        fmt,
        "jobs",
        "jobs",
        records,
        columns,
        title=title,
        keep=("id", "callable"),
        right=("attempt",),
        nowrap=("time", "status"),
        drop=("kwargs", "worker", "args", "attempt", "status"),
    )


def _first_line(text: str | None) -> str | None:
    return text.strip().splitlines()[0] if text and text.strip() else None


@app.command("show")
def show(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="The job id.")],
    queue: Annotated[str | None, typer.Option("--queue", "-q", help="Look only in this queue.")] = None,
    output: Format | None = OutputOption,
) -> None:
    """Everything about one job: call, status, times, worker, result or traceback, task and occurrence."""
    from scheduler_core.inspect import job_detail
    from taskctl.render import clip, emit_object, resolve

    bootstrap.setup_broker()
    detail = job_detail(job_id, queue, name_of_task=_task_name)
    fmt = resolve(output)
    if fmt not in (Format.json, Format.yaml):
        fit = clip if fmt is Format.table else str
        for f in _TEXT_FIELDS:
            detail[f] = fit(_json_text(detail[f]))
        if detail["traceback"] is None:
            detail.pop("traceback")
    emit_object(fmt, "job", detail)


@app.command("enqueue")
def enqueue(
    callable_path: Annotated[str, typer.Argument(metavar="CALLABLE", help="Dotted path, e.g. myapp.jobs.f")],
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ARG]...",
            help='JSON if it parses, else text; text that starts with { [ or " must be valid JSON (exit 3).',
        ),
    ] = None,
    kwarg: Annotated[
        list[str] | None,
        typer.Option(
            "--kwarg",
            "-k",
            metavar="K=V",
            help="Keyword argument; K a Python identifier, each K once (exit 3 otherwise); V as ARG.",
        ),
    ] = None,
    queue: Annotated[str, typer.Option("--queue", "-q", help="Queue to enqueue to.")] = "default",
    at: Annotated[str | None, typer.Option("--at", help="Run at this ISO-8601 time (with offset).")] = None,
    in_: Annotated[
        str | None, typer.Option("--in", help="Run after this delay: 90s, 15m, 2h, 1d (at most 100 years).")
    ] = None,
    output: Format | None = OutputOption,
) -> None:
    """Enqueue one job now (or at / in a given time); prints its id."""
    import sys
    import time

    from scheduler_core.errors import UsageError
    from scheduler_core.inspect import broker_errors
    from scheduler_core.jobs.cli_args import (
        check_callable,
        parse_duration,
        parse_instant,
        parse_kwargs,
        parse_value,
    )
    from scheduler_core.queues.queue import JobCall, get_queue
    from taskctl.render import emit_object, resolve

    if at is not None and in_ is not None:
        raise UsageError("give --at or --in, not both")
    bootstrap.setup_django()
    q = get_queue(queue)
    call = JobCall(
        check_callable(callable_path),
        [parse_value(a, f"ARG {i + 1}") for i, a in enumerate(args or [])],
        parse_kwargs(kwarg or []),
        at=parse_instant(at) if at is not None else (time.time() + parse_duration(in_) if in_ else None),
    )
    with broker_errors(q.broker_url):
        job = q.enqueue_call(call)
    fmt = resolve(output)
    if fmt in (Format.json, Format.yaml):
        emit_object(fmt, "job", job.to_dict())
    else:
        sys.stdout.write(job.id + "\n")


@app.command("requeue")
def requeue(
    job_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="A failed or canceled job.")] = None,
    all_failed: Annotated[
        str | None, typer.Option("--all-failed", metavar="QUEUE", help="Requeue every failed job of QUEUE.")
    ] = None,
    queue: Annotated[
        str | None, typer.Option("--queue", "-q", help="Look for ID only in this queue.")
    ] = None,
    output: Format | None = OutputOption,
) -> None:
    """Put a failed or canceled job back in its queue (or every failed job of a queue)."""
    from scheduler_core.errors import UsageError
    from scheduler_core.inspect import broker_errors
    from scheduler_core.jobs import actions as job_actions
    from scheduler_core.queues.queue import get_queue

    if (job_id is None) == (all_failed is None):
        raise UsageError("give a job ID or --all-failed QUEUE (one of them)")
    bootstrap.setup_broker()
    if all_failed is not None:
        q = get_queue(all_failed)
        with broker_errors(q.broker_url):
            n = q.requeue_all("failed")
        _acted(
            output,
            "requeued",
            "*",
            all_failed,
            f"requeued {n} failed job(s) of queue {all_failed!r}",
            count=n,
        )
        return
    assert job_id is not None
    job = job_actions.requeue(job_id, queue)
    _acted(output, "requeued", job_id, job.queue, f"requeued job {job_id} (queue {job.queue!r})")


@app.command("cancel")
def cancel(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="A queued or scheduled job.")],
    queue: Annotated[str | None, typer.Option("--queue", "-q", help="Look only in this queue.")] = None,
    output: Format | None = OutputOption,
) -> None:
    """Cancel a job that has not started (queued or scheduled)."""
    from scheduler_core.jobs import actions as job_actions

    bootstrap.setup_broker()
    job = job_actions.cancel(job_id, queue)
    _acted(output, "canceled", job_id, job.queue, f"canceled job {job_id} (queue {job.queue!r})")


@app.command("stop")
def stop(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="A running job.")],
    queue: Annotated[str | None, typer.Option("--queue", "-q", help="Look only in this queue.")] = None,
    output: Format | None = OutputOption,
) -> None:
    """Ask the worker running a job to stop it (it is recorded as stopped, in failed)."""
    from scheduler_core.jobs import actions as job_actions

    bootstrap.setup_broker()
    job = job_actions.stop(job_id, queue)
    _acted(
        output, "stop-requested", job_id, job.queue, f"asked worker {job.worker or '?'} to stop job {job_id}"
    )


@app.command("delete")
def delete(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="A job that is not running.")],
    queue: Annotated[str | None, typer.Option("--queue", "-q", help="Look only in this queue.")] = None,
    output: Format | None = OutputOption,
) -> None:
    """Delete a job and its record (a running job must be stopped first)."""
    from scheduler_core.jobs import actions as job_actions

    bootstrap.setup_broker()
    job = job_actions.delete(job_id, queue)
    _acted(output, "deleted", job_id, job.queue, f"deleted job {job_id} (queue {job.queue!r})")
