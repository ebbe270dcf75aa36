"""Apply a generated N-task manifest (default 5,000) on SQLite and PostgreSQL: the first apply, a
re-apply with no change, and their DB query counts. One JSON object a line on stdout.

    .venv/bin/python benchmarks/manifest_apply.py [--tasks 5000] [--db sqlite,postgres]
        [--pg-url postgres://postgres@127.0.0.1:5432/postgres] [--repeat 3]

Modes: "cli" times the whole `taskctl tasks apply -f FILE` process (interpreter start, Django
setup, validation, the transaction, the after-commit replan on Redis); "inprocess" times
`apply_manifest()` alone in a warm process and counts its queries (CaptureQueriesContext);
`seconds` includes the after-commit `planning.tasks_changed` hook, also reported on its own
(`hook_seconds`, `hook_queries`; `queries` / `writes` are apply's own, without the hook's).
Both run on a fresh database of their own (a temp SQLite file; a PostgreSQL database created and
dropped here). Targets: first apply <= 5 s, re-apply <= 1.5 s, re-apply queries independent of N.

Beside it, "peer" mode times django-tasks-scheduler's `manage.py import` of the same tasks (its
JSON export format: its venv has no PyYAML) in benchmarks/.venv-peers, on SQLite only (its
benchmark settings have no other database): "first" into an empty database, "again" with
`--update` (it has no no-op detection: each task is deleted and created again). Its tasks schedule
jobs on BENCH_REDIS_URL, the benchmark Redis database (benchmarks/run.py flushes it per run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def write_manifest(path: Path, n: int) -> None:
    """N tasks, a third of each type, with kwargs, retries and defaults like a real manifest."""
    out = ["version: 1\nset: bench\ndefaults: {queue: default, timeout: 5m}\ntasks:\n"]
    for i in range(n):
        kind = ("cron", "repeatable", "once")[i % 3]
        line = (
            f"  - {{name: bench-{i:05d}, type: {kind}, callable: examples.jobs.hello, kwargs: {{name: n{i}}}"
        )
        if kind == "cron":
            line += f", cron: '{i % 60} {i % 24} * * *', timezone: Europe/Berlin"
        elif kind == "repeatable":
            line += f", interval: {60 + i}s, retry: {{max: 2, backoff: [10s, 1m]}}"
        else:
            line += f", at: '2027-0{1 + i % 9}-01T00:00:00Z'"
        out.append(line + "}\n")
    path.write_text("".join(out))


PEER_TYPES = {"cron": "CronTaskType", "repeatable": "RepeatableTaskType", "once": "OnceTaskType"}


def write_peer_tasks(path: Path, n: int) -> None:
    """The same N tasks in django-tasks-scheduler's import format (what its `export` writes)."""
    tasks = []
    for i in range(n):
        kind = ("cron", "repeatable", "once")[i % 3]
        task: dict[str, Any] = {
            "model": PEER_TYPES[kind],
            "name": f"bench-{i:05d}",
            "callable": "benchlib.dts_jobs.tick",
            "callable_args": [],
            "callable_kwargs": [{"arg_type": "str", "key": "label", "val": f"n{i}"}],
            "enabled": True,
            "queue": "default",
            "timeout": 300,
        }
        if kind == "cron":
            task["cron_string"] = f"{i % 60} {i % 24} * * *"
        elif kind == "repeatable":
            task.update(interval=60 + i, interval_unit="seconds")
        else:
            task["scheduled_time"] = f"2027-0{1 + i % 9}-01T00:00:00+00:00"
        tasks.append(task)
    path.write_text(json.dumps(tasks))


def run_peer(peer_tasks: Path, n: int, tmp: Path) -> None:
    python = REPO / "benchmarks" / ".venv-peers" / "bin" / "python"
    manage = REPO / "benchmarks" / "peers" / "dts_project" / "manage.py"
    if not python.exists():
        emit(db="sqlite", mode="peer", skipped="benchmarks/.venv-peers missing (benchmarks/setup_peers.sh)")
        return
    env = {
        **os.environ,
        "BENCH_DTS_DB": str(tmp / f"dts_{uuid.uuid4().hex[:8]}.sqlite3"),
        "BENCH_REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "DJANGO_SETTINGS_MODULE": "dts_project.settings",
    }
    env.pop("PYTHONPATH", None)
    p = subprocess.run(
        [str(python), str(manage), "migrate", "-v", "0"], env=env, capture_output=True, text=True
    )
    if p.returncode:
        raise SystemExit(f"django-tasks-scheduler migrate failed: {p.stderr.strip()}")
    for phase, extra in (("first", []), ("again", ["--update"])):
        started = time.perf_counter()
        p = subprocess.run(
            [str(python), str(manage), "import", "--format", "json", "--filename", str(peer_tasks), *extra],
            env=env,
            capture_output=True,
            text=True,
        )
        emit(
            db="sqlite",
            mode="peer",
            system="django-tasks-scheduler",
            phase=phase,
            tasks=n,
            seconds=round(time.perf_counter() - started, 3),
            exit=p.returncode,
            created=p.stdout.count("Created task"),
        )


def emit(**record: Any) -> None:
    print(json.dumps({"bench": "manifest_apply", **record}), flush=True)


class Database:
    """A fresh database for one run: a SQLite file, or a PostgreSQL database created and dropped."""

    def __init__(self, kind: str, pg_url: str, tmp: Path) -> None:
        self.kind, self.pg_url, self.name = kind, pg_url, f"taskctl_bench_{uuid.uuid4().hex[:8]}"
        self.url = (
            f"sqlite:///{tmp / (self.name + '.sqlite3')}"
            if kind == "sqlite"
            else pg_url.rsplit("/", 1)[0] + "/" + self.name
        )

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True) as c:
            c.execute(sql)

    def __enter__(self) -> Database:
        if self.kind == "postgres":
            self._admin(f"CREATE DATABASE {self.name}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.kind == "postgres":
            self._admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def env_for(db: Database) -> dict[str, str]:
    env = {
        **os.environ,
        "TASKCTL_DATABASE_URL": db.url,
        "TASKCTL_KEY_PREFIX": f"bench{uuid.uuid4().hex[:6]}",
        "TASKCTL_BROKER_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "PYTHONPATH": str(REPO),
    }
    for k in ("DJANGO_SETTINGS_MODULE", "TASKCTL_SETTINGS"):
        env.pop(k, None)
    return env


def taskctl(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    started = time.perf_counter()
    p = subprocess.run([PYTHON, "-m", "taskctl", *args], env=env, cwd=REPO, capture_output=True, text=True)
    return time.perf_counter() - started, p.returncode, p.stderr.strip()


def run_cli(db_kind: str, pg_url: str, manifest: Path, n: int, tmp: Path) -> None:
    with Database(db_kind, pg_url, tmp) as db:
        env = env_for(db)
        _, code, err = taskctl(env, "db", "migrate")
        if code:
            raise SystemExit(f"migrate failed on {db_kind}: {err}")
        for phase in ("first", "again"):
            seconds, code, err = taskctl(env, "tasks", "apply", "-f", str(manifest), "-o", "json")
            emit(
                db=db_kind,
                mode="cli",
                phase=phase,
                tasks=n,
                seconds=round(seconds, 3),
                exit=code,
                summary=err,
            )


def run_inprocess(db_kind: str, pg_url: str, manifest: Path, n: int, tmp: Path, small: Path) -> None:
    with Database(db_kind, pg_url, tmp) as db:
        env = env_for(db)
        taskctl(env, "db", "migrate")
        p = subprocess.run(
            [PYTHON, __file__, "--worker", str(manifest), str(small), db_kind, str(n)],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        sys.stdout.write(p.stdout)
        if p.returncode:
            sys.stderr.write(p.stderr)


def worker(manifest: str, small: str, db_kind: str, n: int) -> None:
    """In the child: Django on the fresh database; time apply_manifest and count its queries."""
    sys.path.insert(0, str(REPO))
    from taskctl import bootstrap

    bootstrap.setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduler_core.manifest import load_manifest
    from scheduler_core.manifest.apply import apply_manifest
    from scheduler_core.models import Task, TaskSet
    from scheduler_core.tasks import replan as planning

    hook_seconds: list[float] = []
    hook_queries: list[int] = []
    real_hook = planning.tasks_changed

    def timed_hook(*args: Any, **kwargs: Any) -> None:  # the scheduler's after-commit replan
        started, before = time.perf_counter(), len(connection.queries_log)
        real_hook(*args, **kwargs)
        hook_seconds.append(time.perf_counter() - started)
        hook_queries.append(len(connection.queries_log) - before)

    planning.tasks_changed = timed_hook

    def measure(path: str, tasks: int, label: str) -> None:
        Task.objects.all().delete()
        TaskSet.objects.all().delete()
        started = time.perf_counter()
        m = load_manifest([path])
        emit(
            db=db_kind,
            mode="inprocess",
            phase="validate",
            tasks=tasks,
            set=label,
            seconds=round(time.perf_counter() - started, 3),
        )
        for phase in ("first", "again"):
            hook_seconds.clear()
            hook_queries.clear()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                plan = apply_manifest(m)
                seconds = time.perf_counter() - started
            sqls = [q["sql"].lstrip().split(None, 1)[0].upper() for q in ctx.captured_queries]
            sqls = sqls[: len(sqls) - sum(hook_queries)]  # the hook runs last, after the commit
            writes = sum(1 for s in sqls if s in ("INSERT", "UPDATE", "DELETE"))
            emit(
                db=db_kind,
                mode="inprocess",
                phase=phase,
                tasks=tasks,
                set=label,
                seconds=round(seconds, 3),
                queries=len(sqls),
                writes=writes,
                hook_seconds=round(sum(hook_seconds), 3),
                hook_queries=sum(hook_queries),
                **{k: v for k, v in plan.counts().items() if v},
            )

    measure(small, max(1, n // 10), "small")
    measure(manifest, n, "full")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=5000)
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument(
        "--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--no-peer", action="store_true", help="skip django-tasks-scheduler's import")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        manifest, small, peer_tasks = tmp / "tasks.yaml", tmp / "small.yaml", tmp / "peer.json"
        write_manifest(manifest, args.tasks)
        write_manifest(small, max(1, args.tasks // 10))
        write_peer_tasks(peer_tasks, args.tasks)
        for _ in range(args.repeat):
            for kind in args.db.split(","):
                run_cli(kind, args.pg_url, manifest, args.tasks, tmp)
                run_inprocess(kind, args.pg_url, manifest, args.tasks, tmp, small)
            if not args.no_peer:
                run_peer(peer_tasks, args.tasks, tmp)


if __name__ == "__main__":
    main()
