"""The django-tasks-scheduler 4.4.0 side of every scenario (runs in benchmarks/.venv-peers).

Checked against the installed package: `scheduler.helpers.queues.get_queue(name)` returns a Queue
whose enqueue call is `create_and_enqueue_job(func, args=..., kwargs=..., when=None)` (there is no
`enqueue`/`enqueue_call`, and no bulk enqueue); the worker is `manage.py scheduler_worker [queues]`
with `--burst`, `--without-scheduler` and `--fork-job-execution true|false` (default true: fork
per job); the stats command is `manage.py scheduler_stats`; the scheduler is a thread inside each
worker, looping every SCHEDULER_INTERVAL (10 s by default).
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from benchlib.common import DTS_PROJECT, FAIL, NOOP, base_env

_ready = False


def _env_settings(queues: list[str] | None = None) -> dict[str, str]:
    if "BENCH_DTS_DB" not in os.environ:
        fd, path = tempfile.mkstemp(prefix="bench-dts-", suffix=".sqlite3")
        os.close(fd)
        os.environ["BENCH_DTS_DB"] = path
    if queues:
        os.environ["BENCH_DTS_QUEUES"] = ",".join(queues)
    os.environ.setdefault("BENCH_DTS_QUEUES", "default")
    return {
        "BENCH_DTS_DB": os.environ["BENCH_DTS_DB"],
        "BENCH_DTS_QUEUES": os.environ["BENCH_DTS_QUEUES"],
        "DJANGO_SETTINGS_MODULE": "dts_project.settings",
    }


def setup(queues: list[str] | None = None, *, migrate: bool = False) -> None:
    """Configure Django in this process (settings from the environment); migrate if asked."""
    global _ready
    _env_settings(queues)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dts_project.settings"
    if str(DTS_PROJECT.parent) not in sys.path:
        sys.path.insert(0, str(DTS_PROJECT.parent))
    if not _ready:
        import django

        django.setup()
        _ready = True
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def cleanup() -> None:
    path = os.environ.pop("BENCH_DTS_DB", None)
    if path and os.path.exists(path):
        os.unlink(path)


def queue(name: str = "default") -> Any:
    setup()
    from scheduler.helpers.queues import get_queue

    return get_queue(name)


def enqueue_one() -> Any:
    q = queue()
    return lambda: q.create_and_enqueue_job(NOOP)


def enqueue_stamp(key: str) -> None:
    queue().create_and_enqueue_job("benchlib.jobs.stamp", args=(key,))


def fill_noops(n: int) -> None:
    """n queued no-op jobs (one create_and_enqueue_job each: the package has no bulk call)."""
    q = queue()
    for _ in range(n):
        q.create_and_enqueue_job(NOOP)


def child_env() -> dict[str, str]:
    return base_env(_env_settings())


def manage(*args: str) -> list[str]:
    return [sys.executable, str(DTS_PROJECT / "manage.py"), *args]


def worker_argv(
    variant: str, *, burst: bool, with_scheduler: bool = False, queues: tuple[str, ...] = ("default",)
) -> list[str]:
    """variant: "fork" (the default, fork per job) or "nofork" (--fork-job-execution false)."""
    argv = manage("scheduler_worker", "--fork-job-execution", "false" if variant == "nofork" else "true")
    if burst:
        argv.append("--burst")
    if not with_scheduler:
        argv.append("--without-scheduler")
    return [*argv, *queues]


def make_templates(queue_name: str) -> dict[str, str]:
    """One real queued, finished and failed job on `queue_name`, made by the package itself."""
    from scheduler.worker import create_worker

    q = queue(queue_name)
    done, failed = q.create_and_enqueue_job(NOOP), q.create_and_enqueue_job(FAIL)
    worker = create_worker(
        queue_name, name=f"tpl-{queue_name}", burst=True, fork_job_execution=False, with_scheduler=False
    )
    worker.work()
    waiting = q.create_and_enqueue_job(NOOP)
    counts = q.registry_counts()
    assert counts["finished"] >= 1 and counts["failed"] >= 1, counts
    return {"queued": waiting.name, "finished": done.name, "failed": failed.name}


def stats_argv(queues: list[str]) -> list[str]:
    return manage("scheduler_stats")


def pending(r: Any, queue_name: str = "default") -> int:
    """Jobs still waiting (the package keeps them in the sorted set :registry:<name>:queued_jobs)."""
    return int(r.zcard(f":registry:{queue_name}:queued_jobs"))
