"""Two `taskctl tasks apply` processes on one set: they serialise (PostgreSQL: the set row's
FOR UPDATE lock; SQLite: BEGIN IMMEDIATE), and a lock not had within --lock-timeout is exit 4.

Real processes on a database of the test's own: a SQLite file, or a fresh PostgreSQL database
when TASKCTL_TEST_DATABASE_URL points at PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.processes import migrate

REPO = str(Path(__file__).resolve().parent.parent)

pytestmark = pytest.mark.process
PG = os.environ.get("TASKCTL_TEST_DATABASE_URL", "").startswith("postgres")


@pytest.fixture
def db(tmp_path: Path, key_prefix: str) -> Iterator[dict[str, Any]]:
    """{"env": env for taskctl processes, "url": database URL, "path": SQLite file or None}."""
    env = {
        **os.environ,
        "TASKCTL_KEY_PREFIX": key_prefix,
        "PYTHONPATH": REPO,  # examples/ is the repo's demo, importable from the checkout (not installed)
        "TASKCTL_BROKER_URL": os.environ.get("TASKCTL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    }
    for k in ("DJANGO_SETTINGS_MODULE", "TASKCTL_SETTINGS"):
        env.pop(k, None)
    name = None
    if PG:
        import dj_database_url  # noqa: PLC0415  # PostgreSQL runs only

        base = dj_database_url.parse(os.environ["TASKCTL_TEST_DATABASE_URL"])
        host, port, user = base["HOST"] or "127.0.0.1", base["PORT"] or 5432, base["USER"] or "postgres"
        server = f"host={host} port={port} user={user}"
        name = f"taskctl_mc_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        url = f"postgres://{user}@{host}:{port}/{name}"
        info: dict[str, Any] = {"dsn": f"{server} dbname={name}", "path": None}
    else:
        path = tmp_path / "apply.sqlite3"
        url, info = f"sqlite:///{path}", {"path": path}
    env["TASKCTL_DATABASE_URL"] = url
    info.update(env=env, cwd=tmp_path)
    migrate(env, tmp_path)
    yield info
    if name:
        with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _manifest(tmp: Path, n: int, set_name: str = "shared") -> Path:
    path = tmp / f"{set_name}-{n}.yaml"
    lines = [f"version: 1\nset: {set_name}\ntasks:\n"]
    lines += [
        f"  - {{name: {set_name}-{i}, type: repeatable, callable: examples.jobs.hello, interval: {60 + i}}}\n"
        for i in range(n)
    ]
    path.write_text("".join(lines))
    return path


def _apply(db: dict[str, Any], path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "taskctl", "tasks", "apply", "-f", str(path), *extra],
        env=db["env"],
        cwd=db["cwd"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _count(db: dict[str, Any], sql: str) -> int:
    if db["path"] is not None:
        with sqlite3.connect(db["path"]) as c:
            return int(c.execute(sql).fetchone()[0])

    with psycopg.connect(db["dsn"]) as c:
        row = c.execute(sql).fetchone()
        assert row is not None
        return int(row[0])


def test_two_concurrent_applies_of_one_set_serialise(db: dict[str, Any], tmp_path: Path) -> None:
    path = _manifest(tmp_path, 300)
    procs = [_apply(db, path), _apply(db, path)]
    results = sorted((p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs)
    assert [code for code, _ in results] == [0, 0], results
    assert sorted(err for _, err in results) == [
        "set shared: 0 created, 0 configured, 300 unchanged, 0 pruned\n",
        "set shared: 300 created, 0 configured, 0 unchanged, 0 pruned\n",
    ]
    assert _count(db, "SELECT count(*) FROM scheduler_core_task") == 300
    assert _count(db, "SELECT count(*) FROM scheduler_core_taskset") == 1


def _hold_lock(db: dict[str, Any], set_name: str) -> Any:
    """Hold what an apply of `set_name` needs: the set's row lock, or SQLite's write lock."""
    if db["path"] is not None:
        lite = sqlite3.connect(db["path"], isolation_level=None)
        lite.execute("BEGIN IMMEDIATE")
        return lite

    with psycopg.connect(db["dsn"], autocommit=True) as c:
        c.execute("INSERT INTO scheduler_core_taskset (name, created_at) VALUES (%s, now())", (set_name,))
    conn = psycopg.connect(db["dsn"])
    conn.execute("SELECT id FROM scheduler_core_taskset WHERE name = %s FOR UPDATE", (set_name,))
    return conn


def test_lock_timeout_is_exit_4_and_a_waiting_apply_proceeds(db: dict[str, Any], tmp_path: Path) -> None:
    path = _manifest(tmp_path, 5, "locked")
    holder = _hold_lock(db, "locked")
    try:
        started = time.monotonic()
        p = _apply(db, path, "--lock-timeout", "1")
        assert p.wait(timeout=60) == 4
        assert time.monotonic() - started < 30
        err = p.stderr.read() if p.stderr else ""
        assert err == (
            "taskctl: error: set locked is being applied by another process "
            "(lock not had within 1s); nothing was written\n"
        )
        waiting = _apply(db, path, "--lock-timeout", "60")
        time.sleep(1.5)
        assert waiting.poll() is None  # it waits for the lock
    finally:
        holder.rollback() if db["path"] is None else holder.execute("ROLLBACK")
        holder.close()
    assert waiting.wait(timeout=60) == 0
    assert _count(db, "SELECT count(*) FROM scheduler_core_task") == 5
