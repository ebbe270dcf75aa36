"""`taskctl tasks list | show | enable | disable | delete` against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

import scheduler_core.tasks.replan
from scheduler_core.models import Task
from tests.cli import cli, golden

pytestmark = pytest.mark.django_db


@pytest.fixture
def replans(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], list[Any]]]:
    """Record calls of replan.tasks_changed (the scheduler's hook; a stub until that issue)."""
    calls: list[tuple[list[int], list[Any]]] = []
    monkeypatch.setattr(
        scheduler_core.tasks.replan,
        "tasks_changed",
        lambda ids, deleted=(): calls.append((list(ids), list(deleted))),
    )
    return calls


@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
def test_list_golden(tasks: dict[str, Task], fmt: str) -> None:
    out = cli("tasks", "list", "-o", fmt)
    assert out.code == 0, out.stderr
    golden(f"tasks_list.{fmt}", out.stdout)


def test_list_rows(tasks: dict[str, Task]) -> None:
    doc = json.loads(cli("tasks", "list", "-o", "json").stdout)
    assert doc["kind"] == "tasks" and doc["version"] == 1
    rows = {r["name"]: r for r in doc["tasks"]}
    assert rows["nightly-report"]["schedule"] == "cron 0 3 * * * (Europe/Berlin)"
    assert rows["nightly-report"]["set"] == "billing" and rows["poll-feed"]["set"] is None
    assert rows["poll-feed"]["schedule"] == "every 15m, 10 runs, from 2026-09-01 12:00 UTC"
    assert rows["poll-feed"]["last_status"] == "failed"
    assert rows["migrate-once"]["enabled"] is False and rows["migrate-once"]["timezone"] == "UTC"


def test_list_empty() -> None:
    out = cli("tasks", "list", "-o", "json")
    assert json.loads(out.stdout) == {"version": 1, "kind": "tasks", "tasks": []}


@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
def test_show_golden(tasks: dict[str, Task], fmt: str) -> None:
    out = cli("tasks", "show", "poll-feed", "-o", fmt)
    assert out.code == 0, out.stderr
    golden(f"tasks_show.{fmt}", out.stdout)


def test_show_spec_and_status(tasks: dict[str, Task]) -> None:
    doc = json.loads(cli("tasks", "show", "nightly-report", "-o", "json").stdout)
    assert doc["kind"] == "task" and doc["set"] == "billing"
    assert doc["spec"]["cron"] == "0 3 * * *" and doc["spec"]["kwargs"] == {"to": ["ops@example.com"]}
    assert doc["status"]["run_count"] == 20 and doc["status"]["next_run_at"] == "2026-09-22T01:00:00Z"


@pytest.mark.parametrize("command", ["show", "enable", "disable", "delete"])
def test_unknown_task_exits_3(command: str, replans: list[Any]) -> None:
    out = cli("tasks", command, "nope")
    assert (out.code, out.stdout, out.stderr) == (3, "", "taskctl: error: task 'nope' not found\n")
    assert replans == []


def test_disable_enable(
    tasks: dict[str, Task], replans: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    pk = tasks["poll-feed"].pk
    old_hash = tasks["poll-feed"].spec_hash
    with django_capture_on_commit_callbacks(execute=True):
        out = cli("tasks", "disable", "poll-feed")
    assert (out.code, out.stderr) == (0, "task 'poll-feed' disabled\n")
    task = Task.objects.get(pk=pk)
    assert task.enabled is False and task.spec_hash == task.compute_spec_hash() != old_hash
    assert replans == [([pk], [])]
    with django_capture_on_commit_callbacks(execute=True):
        out = cli("tasks", "disable", "poll-feed", "-o", "json")
    assert json.loads(out.stdout) == {
        "version": 1, "kind": "task-action", "action": "disabled", "name": "poll-feed", "changed": False
    }  # fmt: skip
    assert len(replans) == 1  # nothing changed, nothing replanned
    with django_capture_on_commit_callbacks(execute=True):
        assert cli("tasks", "enable", "poll-feed").stderr == "task 'poll-feed' enabled\n"
    assert Task.objects.get(pk=pk).enabled is True and replans[-1] == ([pk], [])


def test_delete_hand_made(
    tasks: dict[str, Task], replans: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    t = tasks["poll-feed"]
    with django_capture_on_commit_callbacks(execute=True):
        out = cli("tasks", "delete", "poll-feed")
    assert (out.code, out.stderr) == (0, "task 'poll-feed' deleted\n")
    assert not Task.objects.filter(name="poll-feed").exists()
    assert replans == [([], [(t.pk, "high", "poll-feed@1790000100")])]


def test_delete_set_owned_warns(tasks: dict[str, Task], django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        out = cli("tasks", "delete", "nightly-report", "-o", "json")
    assert out.code == 0
    assert out.stderr == (
        "taskctl: warning: task 'nightly-report' belongs to set 'billing': "
        "the next `tasks apply` of that set re-creates it\n"
    )
    assert json.loads(out.stdout)["action"] == "deleted"
    assert not Task.objects.filter(name="nightly-report").exists()


@pytest.mark.parametrize("args", [("list",), ("show", "x"), ("disable", "x")])
def test_unreachable_database_exits_69(args: tuple[str, ...]) -> None:
    """A real process with the built-in settings and a PostgreSQL URL to a closed port."""
    env = {
        **os.environ,
        "TASKCTL_SETTINGS": "taskctl.settings",
        "TASKCTL_DATABASE_URL": "postgres://postgres@127.0.0.1:1/test",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    t = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "taskctl", "tasks", *args], env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 69, proc.stderr
    assert proc.stderr.startswith("taskctl: error: database unreachable") and proc.stderr.count("\n") == 1
    assert time.monotonic() - t < 5
