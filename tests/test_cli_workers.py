"""`taskctl workers list | stop | suspend | resume`.

The worker records and commands belong to scheduler_core.worker.control (the worker issue); these tests
check the CLI around it: rendering of what `list_workers()` returns, the arguments passed on, and
the error paths. They skip what needs control.py while it is not there.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from scheduler_core.conf import reset_config
from scheduler_core.worker import control as mod
from tests.cli import cli, golden

HAVE_CONTROL = importlib.util.find_spec("scheduler_core.worker.control") is not None
needs_control = pytest.mark.skipif(not HAVE_CONTROL, reason="scheduler_core.worker.control is not there yet")

WORKERS = [
    {
        "name": "web-1.4242", "host": "web-1", "pid": 4242, "queues": ["high", "default"], "state": "busy",
        "current_jobs": ["job-active"], "jobs_done": 1520, "jobs_failed": 3,
        "started_at": datetime(2026, 9, 21, 8, tzinfo=UTC),
        "last_heartbeat": datetime(2026, 9, 21, 14, 13, 18, tzinfo=UTC),
    },
    {
        "name": "web-2.77", "host": "web-2", "pid": 77, "queues": ["low"], "state": "idle",
        "current_jobs": [], "jobs_done": 0, "jobs_failed": 0,
        "started_at": datetime(2026, 9, 21, 14, tzinfo=UTC),
        "last_heartbeat": datetime(2026, 9, 21, 14, 13, 19, tzinfo=UTC),
    },
]  # fmt: skip


@pytest.fixture
def control(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """scheduler_core.worker.control with its broker side replaced by a recorder (rendering tests only)."""
    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(mod, "list_workers", lambda: [dict(w) for w in WORKERS])
    monkeypatch.setattr(mod, "stop_worker", lambda name, now=False: calls.append(("stop", (name, now))))
    monkeypatch.setattr(mod, "suspend_worker", lambda name: calls.append(("suspend", name)))
    monkeypatch.setattr(mod, "resume_worker", lambda name: calls.append(("resume", name)))
    return calls


@needs_control
@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
def test_list_golden(control: Any, fmt: str) -> None:
    out = cli("workers", "list", "-o", fmt)
    assert out.code == 0, out.stderr
    golden(f"workers_list.{fmt}", out.stdout)


@needs_control
def test_list_json_document(control: Any) -> None:
    doc = json.loads(cli("workers", "list", "-o", "json").stdout)
    assert doc["kind"] == "workers" and doc["version"] == 1
    assert doc["workers"][0]["last_heartbeat"] == "2026-09-21T14:13:18Z"


@needs_control
def test_stop_warm_and_cold(control: list[tuple[str, Any]]) -> None:
    out = cli("workers", "stop", "web-1.4242")
    assert (out.code, out.stderr) == (0, "asked worker web-1.4242 to stop after its running jobs (warm)\n")
    out = cli("workers", "stop", "web-1.4242", "--now", "-o", "json")
    assert json.loads(out.stdout)["now"] is True
    assert cli("workers", "suspend", "web-2.77").code == 0
    assert cli("workers", "resume", "web-2.77").code == 0
    assert control == [
        ("stop", ("web-1.4242", False)),
        ("stop", ("web-1.4242", True)),
        ("suspend", "web-2.77"),
        ("resume", "web-2.77"),
    ]


@needs_control
def test_stop_unknown_worker_exits_3() -> None:
    out = cli("workers", "stop", "nobody")
    assert out.code == 3 and out.stderr.count("\n") == 1 and "nobody" in out.stderr


@needs_control
@pytest.mark.parametrize("args", [("list",), ("stop", "w1")])
def test_unreachable_broker_exits_69(settings: Any, args: tuple[str, ...]) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "BROKER_URL": "redis://127.0.0.1:1/0"}
    reset_config()
    out = cli("workers", *args)
    assert out.code == 69 and len(out.stderr.strip().splitlines()) == 1 and "unreachable" in out.stderr


@pytest.mark.parametrize("args", [("stop",), ("suspend",), ("list", "extra"), ("stop", "w1", "--bogus")])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    assert cli("workers", *args).code == 2


def test_bad_output_format_exits_2() -> None:
    assert cli("workers", "list", "-o", "xml").code == 2
