"""The taskctl side of every scenario (runs in the project's .venv).

>>> LEAD: this is the one file to wire. Every function here calls taskctl's public API or CLI;
>>> a function whose piece of taskctl does not exist yet raises `NotAvailable`, and the scenario
>>> then reports {"skipped": "taskctl side not available: ..."} instead of crashing.

taskctl is configured by its built-in settings (taskctl.settings) from the environment:
TASKCTL_BROKER_URL (the benchmark Redis URL), TASKCTL_DATABASE_URL (a temporary SQLite file),
TASKCTL_QUEUES.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from benchlib.common import FAIL, NOOP, NotAvailable, base_env

_ready = False


def _env_settings(queues: list[str] | None = None) -> dict[str, str]:
    if "TASKCTL_DATABASE_URL" not in os.environ:
        fd, path = tempfile.mkstemp(prefix="bench-taskctl-", suffix=".sqlite3")
        os.close(fd)
        os.environ["BENCH_TASKCTL_DB"] = path
        os.environ["TASKCTL_DATABASE_URL"] = f"sqlite:///{path}"
    if queues:
        os.environ["TASKCTL_QUEUES"] = ",".join(queues)
    os.environ.setdefault("TASKCTL_QUEUES", "default")
    os.environ["TASKCTL_BROKER_URL"] = os.environ["BENCH_REDIS_URL"]
    return {k: os.environ[k] for k in ("TASKCTL_DATABASE_URL", "TASKCTL_QUEUES", "TASKCTL_BROKER_URL")}


def setup(queues: list[str] | None = None, *, migrate: bool = False) -> None:
    """Configure Django with taskctl's built-in settings in this process; migrate if asked."""
    global _ready
    _env_settings(queues)
    os.environ["DJANGO_SETTINGS_MODULE"] = "taskctl.settings"
    if not _ready:
        import django

        django.setup()
        _ready = True
    if migrate:
        subprocess.run(cli("db", "migrate"), env=child_env(), check=True, stdout=subprocess.DEVNULL)


def cleanup() -> None:
    path = os.environ.pop("BENCH_TASKCTL_DB", None)
    os.environ.pop("TASKCTL_DATABASE_URL", None)
    if path and os.path.exists(path):
        os.unlink(path)


def child_env() -> dict[str, str]:
    return base_env(_env_settings())


def cli(*args: str) -> list[str]:
    """The `taskctl` console script of the venv this runs in (the command an operator types)."""
    script = Path(sys.executable).parent / "taskctl"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "taskctl", *args]


@cache
def has_command(*words: str) -> bool:
    """Whether `taskctl WORDS... --help` exists (the command is implemented)."""
    proc = subprocess.run(cli(*words, "--help"), env=child_env(), capture_output=True)
    return proc.returncode == 0


def require_command(*words: str) -> None:
    if not has_command(*words):
        raise NotAvailable(f"`taskctl {' '.join(words)}` does not exist yet")


def queue(name: str = "default") -> Any:
    setup()
    try:
        from scheduler_core import get_queue
    except ImportError as exc:
        raise NotAvailable(f"scheduler_core.get_queue: {exc}") from None
    return get_queue(name)


# ----- enqueue_single / enqueue_bulk / drain / latency -----
def enqueue_one() -> Any:
    q = queue()
    return lambda: q.enqueue(NOOP)


def enqueue_bulk(n: int) -> None:
    try:
        from scheduler_core.queues.queue import JobCall
    except ImportError as exc:
        raise NotAvailable(f"bulk enqueue: {exc}") from None
    queue().enqueue_many(JobCall(NOOP) for _ in range(n))


def fill_noops(n: int) -> None:
    enqueue_bulk(n)


def enqueue_stamp(key: str) -> None:
    queue().enqueue("benchlib.jobs.stamp", key)


def pending(r: Any, queue_name: str = "default") -> int:
    """Jobs still waiting in the queue (through the API: Queue.count("queued"))."""
    return int(queue(queue_name).count("queued"))


def worker_argv(
    variant: str, *, burst: bool, with_scheduler: bool = False, queues: tuple[str, ...] = ("default",)
) -> list[str]:
    """variant: "c1" / "c2" = --concurrency 1 / 2."""
    require_command("worker", "start")
    concurrency = variant[1:] if variant.startswith("c") and variant[1:].isdigit() else "1"
    argv = cli("worker", "start", "--concurrency", concurrency)
    argv.append("--with-scheduler" if with_scheduler else "--without-scheduler")
    if burst:
        argv.append("--burst")
    return [*argv, *queues]


# ----- queues_show -----
def make_templates(queue_name: str) -> dict[str, str]:
    """One real queued, finished and failed job on `queue_name`, made through taskctl's API.

    Uses the worker-side moves (scheduler_core.queues.lifecycle.claim / complete), as a worker would."""
    try:
        from scheduler_core.jobs.record import JobStatus
        from scheduler_core.queues.lifecycle import Outcome, claim, complete
    except ImportError as exc:
        raise NotAvailable(f"lifecycle API: {exc}") from None
    q = queue(queue_name)
    done, failed = q.enqueue(NOOP), q.enqueue(FAIL)
    for expected, status in ((done, JobStatus.FINISHED), (failed, JobStatus.FAILED)):
        job = claim(q, "bench-template")
        assert job is not None and job.id == expected.id
        complete(q, job, Outcome(status, {}), worker="bench-template")
    waiting = q.enqueue(NOOP)
    return {"queued": waiting.id, "finished": done.id, "failed": failed.id}


def stats_argv(queues: list[str]) -> list[str]:
    require_command("queues", "show")
    return cli("queues", "show")


# ----- scheduler_pass -----
def create_tasks(total: int, due: int) -> None:
    """`total` enabled REPEATABLE tasks (hourly), `due` of them due now, with their next run
    planned as the scheduler would leave them. LEAD: adjust to the scheduler's real state
    (next_run_at / pending_job_id) if a pass needs more than this to be in its steady state."""
    setup(migrate=True)
    from datetime import UTC, datetime, timedelta

    from scheduler_core.models import Task

    now = datetime.now(UTC)
    # Each task's anchor (`at`) is its next run, so next_run_at sits on the task's own grid.
    later = [now + timedelta(seconds=600 + i % 3000) for i in range(total)]
    rows = [
        Task(name=f"bench-{i:06d}", type="repeatable", callable=NOOP, interval=3600, at=later[i],
             next_run_at=later[i])
        for i in range(total)
    ]  # fmt: skip
    Task.objects.bulk_create(rows, batch_size=2000)
    # The due ones became due a second ago, stamped after the (slow, at 100k) insert: a pass right
    # after this finds them late by a second, not past the grace (which would make them misfires).
    just_due = datetime.now(UTC) - timedelta(seconds=1)
    Task.objects.filter(name__lt=f"bench-{due:06d}").update(at=just_due, next_run_at=just_due)
    # The broker now holds what the scheduler would have planned: mark its epoch, or the
    # measured pass finds no marker and refills the broker from the DB instead of a normal pass.
    from scheduler_core.conf import get_config
    from scheduler_core.scheduler.recovery import brokers, mark

    config = get_config()
    for url in brokers(config):
        mark(config, url, just_due)


def scheduler_pass() -> dict[str, Any]:
    """One scheduler pass, in this process: {"seconds": wall time, "queries": DB queries}.

    Calls scheduler_core.scheduler.loop.run_once, the function behind `taskctl scheduler tick`."""
    try:
        from scheduler_core.scheduler.loop import run_once as one_pass
    except ImportError as exc:
        raise NotAvailable(f"scheduler_core.scheduler.loop.run_once: {exc}") from None
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        result = one_pass()
        elapsed = time.perf_counter() - t0
    return {
        "seconds": round(elapsed, 4),
        "queries": len(ctx.captured_queries),
        "leader": result.leader,
        "planned": result.planned,
        "promoted": result.promoted,
    }


def tick_argv() -> list[str]:
    require_command("scheduler", "tick")
    return cli("scheduler", "tick")


# ----- lateness -----
def create_lateness_tasks(specs: list[tuple[str, int]]) -> None:
    """One REPEATABLE task per (label, interval seconds) running benchlib.jobs.tick(label), made
    through the model's normal save path (so planning.tasks_changed is triggered as in real use).
    LEAD: swap for `taskctl tasks apply` of a manifest if that is the preferred path."""
    setup(migrate=True)
    from django.db import transaction

    from scheduler_core.models import Task

    with transaction.atomic():
        tasks = [
            Task.objects.create(
                name=label, type="repeatable", callable="benchlib.jobs.tick", args=[label], interval=secs
            )
            for label, secs in specs
        ]
    try:
        from scheduler_core.tasks.replan import tasks_changed
    except ImportError:
        return
    tasks_changed([t.id for t in tasks])


def runs(label: str) -> list[tuple[float, float]]:
    """(planned occurrence, start) epoch pairs of the jobs that ran for task `label`, read from
    the job records (`occurrence` and `started_at`). LEAD: confirm the field names and the job's
    link to its task (`task_id`) once the scheduler writes them."""
    from scheduler_core.models import Task

    task_id = Task.objects.get(name=label).id
    q = queue()
    out: list[tuple[float, float]] = []
    for registry in ("finished", "failed"):
        for job in q.jobs(registry, limit=100_000):
            occurrence, started = getattr(job, "occurrence", None), getattr(job, "started_at", None)
            if getattr(job, "task_id", None) != task_id or occurrence is None or started is None:
                continue
            out.append((_epoch(occurrence), _epoch(started)))
    return sorted(out)


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)
