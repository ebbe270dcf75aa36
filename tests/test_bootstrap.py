"""CLI bootstrap as an operator meets it: real `taskctl` processes, real SQLite and PostgreSQL.

Settings precedence, --pythonpath, database URLs, and the exit-code contract for configuration
(78) and availability (69) failures: one line on stderr, never a traceback.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from taskctl import __version__, bootstrap
from tests.conftest import REDIS_URL
from tests.processes import clean_env, sqlite_url, taskctl

PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("taskctl: error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]
    assert result.stdout == ""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory with settings modules that say on stderr which one was loaded."""
    proj = tmp_path / "proj"
    proj.mkdir()
    for name in ("settings_a", "settings_b", "settings_c"):
        (proj / f"{name}.py").write_text(
            "import sys\nfrom taskctl.settings import *  # noqa: F403\n"
            f"sys.stderr.write('loaded {name}\\n')\n"
        )
    return proj


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}


# --- settings precedence -------------------------------------------------------------------


def test_resolve_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TASKCTL_SETTINGS", raising=False)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    assert bootstrap.resolve_settings_module(None) == "taskctl.settings"
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "dj")
    assert bootstrap.resolve_settings_module(None) == "dj"
    monkeypatch.setenv("TASKCTL_SETTINGS", "tc")
    assert bootstrap.resolve_settings_module(None) == "tc"
    assert bootstrap.resolve_settings_module("flag") == "flag"


@pytest.mark.parametrize(
    ("flag", "taskctl_settings", "django_settings", "expected"),
    [
        ("settings_a", "settings_b", "settings_c", "settings_a"),
        (None, "settings_b", "settings_c", "settings_b"),
        (None, None, "settings_c", "settings_c"),
    ],
)
def test_settings_precedence_in_a_real_process(
    project: Path,
    tmp_path: Path,
    flag: str | None,
    taskctl_settings: str | None,
    django_settings: str | None,
    expected: str,
) -> None:
    env = clean_env(TASKCTL_DATABASE_URL=sqlite_url(tmp_path / "db.sqlite3"))
    if taskctl_settings:
        env["TASKCTL_SETTINGS"] = taskctl_settings
    if django_settings:
        env["DJANGO_SETTINGS_MODULE"] = django_settings
    args = ["--pythonpath", str(project)] + (["--settings", flag] if flag else []) + ["db", "migrate"]
    result = taskctl(*args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    loaded = [line for line in result.stderr.splitlines() if line.startswith("loaded ")]
    assert loaded == [f"loaded {expected}"]


def test_builtin_settings_when_none_given(tmp_path: Path) -> None:
    db = tmp_path / "builtin.sqlite3"
    result = taskctl("db", "migrate", env=clean_env(TASKCTL_DATABASE_URL=sqlite_url(db)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "scheduler_core_task" in tables(db)
    # only taskctl's own app: the admin, auth and sessions serve nothing without pages
    others = {t for t in tables(db) if not t.startswith(("scheduler_core_", "sqlite_"))}
    assert others == {"django_migrations"}


def test_builtin_settings_load_no_contrib_app(tmp_path: Path) -> None:
    """Every worker process forks from one that set Django up: what it imports, they all hold."""
    code = (
        "import sys, django; django.setup(); "
        "print(sorted(m for m in sys.modules if m.startswith('django.contrib')))"
    )
    db = sqlite_url(tmp_path / "x.db")
    env = clean_env(DJANGO_SETTINGS_MODULE="taskctl.settings", TASKCTL_DATABASE_URL=db)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_builtin_default_database_is_in_the_current_directory(tmp_path: Path) -> None:
    result = taskctl("db", "migrate", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "scheduler_core_task" in tables(tmp_path / "taskctl.sqlite3")


def test_pythonpath_makes_a_settings_module_importable(project: Path, tmp_path: Path) -> None:
    env = clean_env(TASKCTL_DATABASE_URL=sqlite_url(tmp_path / "db.sqlite3"))
    without = taskctl("--settings", "settings_a", "db", "migrate", env=env, cwd=tmp_path)
    assert_one_line_error(without, 78, "'settings_a'", "cannot be imported")
    with_path = taskctl(
        "--pythonpath", str(project), "--settings", "settings_a", "db", "migrate", env=env, cwd=tmp_path
    )
    assert with_path.returncode == 0, with_path.stderr


def test_settings_module_found_from_the_current_directory(project: Path, tmp_path: Path) -> None:
    """Like django-admin: a project's settings import from where taskctl runs."""
    env = clean_env(TASKCTL_DATABASE_URL=sqlite_url(tmp_path / "db.sqlite3"), TASKCTL_SETTINGS="settings_b")
    result = taskctl("db", "migrate", env=env, cwd=project)
    assert result.returncode == 0, result.stderr
    assert "loaded settings_b" in result.stderr


# --- configuration errors: 78, one line ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        (None, "cannot be imported"),  # no such module
        ("import nonexistent_package_xyz\n", "nonexistent_package_xyz"),
        ("x = (\n", "was never closed"),  # a syntax error names file and line
        ("from taskctl.settings import *  # noqa: F403\n1 / 0\n", "ZeroDivisionError"),
        ("from taskctl.settings import *  # noqa: F403\nSCHEDULER = {'QUEUES': {}}\n", "QUEUES"),
        ("from taskctl.settings import *  # noqa: F403\nSCHEDULER = {'QUEUS': {'a': {}}}\n", "QUEUS"),
        (
            "from taskctl.settings import *  # noqa: F403\nSCHEDULER = {'DEFAULT_TIMEOUT': 'soon'}\n",
            "DEFAULT_TIMEOUT",
        ),
    ],
    ids=["missing", "import-error", "syntax-error", "raises", "no-queues", "unknown-key", "not-a-number"],
)
def test_bad_settings_module_is_78(tmp_path: Path, source: str | None, needle: str) -> None:
    name = f"bad_{uuid.uuid4().hex[:8]}"
    if source is not None:
        (tmp_path / f"{name}.py").write_text(source)
    env = clean_env(TASKCTL_DATABASE_URL=sqlite_url(tmp_path / "db.sqlite3"))
    result = taskctl("--pythonpath", str(tmp_path), "--settings", name, "db", "migrate", env=env)
    assert_one_line_error(result, 78, needle)
    assert not (tmp_path / "db.sqlite3").exists()


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("foo://somewhere/db", "unsupported scheme 'foo'"),
        ("just-a-path.sqlite3", "not a URL"),
        ("postgres://user:s3cret@db:notaport/x", "TASKCTL_DATABASE_URL"),
    ],
)
def test_bad_database_url_is_78(tmp_path: Path, url: str, needle: str) -> None:
    result = taskctl("db", "migrate", env=clean_env(TASKCTL_DATABASE_URL=url), cwd=tmp_path)
    assert_one_line_error(result, 78, needle)
    assert "s3cret" not in result.stderr


def test_unreachable_database_is_69_within_seconds(tmp_path: Path) -> None:
    env = clean_env(TASKCTL_DATABASE_URL="postgres://postgres:s3cret@127.0.0.1:1/nothing")
    started = time.monotonic()
    result = taskctl("db", "migrate", env=env, cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert_one_line_error(result, 69, "database unreachable")
    assert "s3cret" not in result.stderr
    assert elapsed < 15, f"took {elapsed:.1f}s"


def test_sqlite_in_a_missing_directory_is_69(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "no" / "such" / "dir" / "db.sqlite3")
    result = taskctl("db", "migrate", env=clean_env(TASKCTL_DATABASE_URL=url), cwd=tmp_path)
    assert_one_line_error(result, 69, "database unreachable")


@pytest.mark.parametrize("command", [("tasks", "list"), ("scheduler", "tick")])
def test_database_without_tables_says_migrate_78(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "empty.sqlite3").touch()
    url = sqlite_url(tmp_path / "empty.sqlite3")
    env = clean_env(TASKCTL_DATABASE_URL=url, TASKCTL_BROKER_URL=REDIS_URL, TASKCTL_KEY_PREFIX=tmp_path.name)
    result = taskctl(*command, env=env, cwd=tmp_path)
    assert_one_line_error(result, 78, "no taskctl tables", "taskctl db migrate")


@pytest.mark.parametrize("command", [("tasks", "list"), ("tasks", "show", "x"), ("scheduler", "tick")])
def test_reading_a_missing_sqlite_file_does_not_create_it(tmp_path: Path, command: tuple[str, ...]) -> None:
    db = tmp_path / "missing.sqlite3"
    env = clean_env(
        TASKCTL_DATABASE_URL=sqlite_url(db), TASKCTL_BROKER_URL=REDIS_URL, TASKCTL_KEY_PREFIX=tmp_path.name
    )
    result = taskctl(*command, env=env, cwd=tmp_path)
    assert_one_line_error(result, 78, "does not exist", "taskctl db migrate")
    assert not db.exists()


# --- version, help ---------------------------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    result = taskctl("--version", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"taskctl {__version__}"


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_needs_no_settings_database_or_broker(tmp_path: Path, flag: str) -> None:
    env = clean_env(
        TASKCTL_SETTINGS="no.such.settings",
        TASKCTL_DATABASE_URL="postgres://postgres@127.0.0.1:1/x",
        TASKCTL_BROKER_URL="redis://127.0.0.1:1/0",
    )
    result = taskctl(flag, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: taskctl")
    for noun in ("db", "tasks", "worker", "scheduler", "queues", "jobs", "workers"):
        assert f"\n  {noun} " in result.stdout
    sub = taskctl("db", flag, env=env, cwd=tmp_path)
    assert sub.returncode == 0 and "migrate" in sub.stdout


def test_no_arguments_shows_usage(tmp_path: Path) -> None:
    result = taskctl(env=clean_env(), cwd=tmp_path)
    assert result.returncode in (0, 2)
    assert "Usage: taskctl" in result.stdout + result.stderr


def test_unknown_command_is_usage_error_2(tmp_path: Path) -> None:
    result = taskctl("frobnicate", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "frobnicate" in result.stderr


# --- db migrate on SQLite and PostgreSQL ----------------------------------------------------------


def test_db_migrate_sqlite_twice(tmp_path: Path) -> None:
    db = tmp_path / "m.sqlite3"
    env = clean_env(TASKCTL_DATABASE_URL=sqlite_url(db))
    first = taskctl("db", "migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "database migrated" in first.stderr and first.stdout == ""
    assert {"scheduler_core_task", "django_migrations"} <= tables(db)
    second = taskctl("db", "migrate", env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr


def _pg_connect(dbname: str) -> object:
    return psycopg.connect(f"{PG_SERVER}/{dbname}", autocommit=True, connect_timeout=3)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    try:
        admin = _pg_connect("postgres")
    except Exception as exc:
        if "postgres" in os.environ.get("TASKCTL_TEST_DATABASE_URL", ""):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER}: {exc}")
    name = f"taskctl_boot_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
        admin.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_db_migrate_postgres(tmp_path: Path, pg_database: str, scheme: str) -> None:
    url = f"{scheme}://postgres@127.0.0.1:5432/{pg_database}"
    env = clean_env(TASKCTL_DATABASE_URL=url)
    result = taskctl("db", "migrate", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    conn = _pg_connect(pg_database)
    try:
        rows = conn.execute(  # type: ignore[attr-defined]
            "select table_name from information_schema.tables where table_schema = 'public'"
        ).fetchall()
    finally:
        conn.close()  # type: ignore[attr-defined]
    assert {"scheduler_core_task", "django_migrations"} <= {r[0] for r in rows}
    again = taskctl("db", "migrate", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_missing_postgres_database_is_69(tmp_path: Path) -> None:
    try:
        _pg_connect("postgres").close()  # type: ignore[attr-defined]
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER}: {exc}")
    url = f"postgres://postgres@127.0.0.1:5432/taskctl_missing_{uuid.uuid4().hex[:8]}"
    result = taskctl("db", "migrate", env=clean_env(TASKCTL_DATABASE_URL=url), cwd=tmp_path)
    assert_one_line_error(result, 69, "does not exist")
