"""`taskctl queues show | clear` on a real Redis, in-process (tests/cli.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import scheduler_core.inspect
from scheduler_core.broker import oneshot
from scheduler_core.conf import reset_config
from scheduler_core.queues.queue import get_queue
from taskctl.app import run
from tests.cli import NOW, cli, golden
from tests.data import digest, fill

REPO = Path(__file__).resolve().parent.parent


# ----- queues show -----
@pytest.mark.parametrize("fmt", ["table", "plain", "json", "yaml"])
def test_queues_show_golden(clock: float, fmt: str) -> None:
    fill()
    out = cli("queues", "show", "-o", fmt)
    assert out.code == 0, out.stderr
    assert out.stderr == ""
    golden(f"queues_show.{fmt}", out.stdout)


def test_queues_show_json_shape(clock: float) -> None:
    fill()
    doc = json.loads(cli("queues", "show", "-o", "json").stdout)
    assert doc["version"] == 1 and doc["kind"] == "queues"
    default = doc["queues"][0]
    counts = {k: default[k] for k in ("scheduled", "queued", "active", "finished", "failed", "canceled")}
    assert default["name"] == "default"
    assert counts == {"scheduled": 2, "queued": 3, "active": 1, "finished": 1, "failed": 1, "canceled": 1}
    assert default["workers"] == 0
    assert default["oldest_queued_age"] == 125.0
    assert doc["queues"][1]["oldest_queued_age"] == 3700.0
    assert doc["queues"][2]["oldest_queued_age"] is None
    assert doc["totals"]["queued"] == 4 and doc["totals"]["oldest_queued_age"] == 3700.0


def test_queues_show_named_queues_in_given_order(clock: float) -> None:
    fill()
    out = cli("queues", "show", "low", "high", "-o", "plain")
    assert [line.split("\t")[0] for line in out.stdout.splitlines()] == ["low", "high"]


def test_queues_show_is_read_only(clock: float, key_prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fill()
    # Move the clock past every terminal expiry: a cleaning `show` would prune them now.

    monkeypatch.setattr(scheduler_core.inspect, "clock", lambda: NOW + 30 * 86400)
    before = digest(key_prefix)
    for fmt in ("table", "json"):
        assert cli("queues", "show", "-o", fmt).code == 0
    assert cli("queues", "show", "--watch", "--interval", "0.1", "--count", "2", "-o", "json").code == 0
    assert digest(key_prefix) == before
    doc = json.loads(cli("queues", "show", "-o", "json").stdout)
    assert doc["totals"]["finished"] == 0  # expired entries are not counted ... but still there:
    assert digest(key_prefix) == before


def test_queues_show_one_round_trip_per_broker(clock: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting many jobs costs one pipelined round trip per broker, not one command per job."""
    fill()
    calls: list[int] = []
    real = oneshot.execute

    def counting(url: str, commands: Any, connect_timeout: float = 3.0) -> Any:
        calls.append(len(commands))
        return real(url, commands, connect_timeout)

    monkeypatch.setattr(oneshot, "execute", counting)
    assert cli("queues", "show", "-o", "json").code == 0
    assert calls == [3 * 7 + 2]  # one pipeline: 7 commands per queue, 2 for the workers


def test_watch_off_tty_gives_n_json_lines(clock: float) -> None:
    fill()
    out = cli("queues", "show", "--watch", "--interval", "0.1", "--count", "3", "-o", "json")
    assert out.code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 3
    docs = [json.loads(line) for line in lines]
    assert all(d["kind"] == "queues" and d["queues"][0]["queued"] == 3 for d in docs)


def test_watch_off_tty_plain_snapshots(clock: float) -> None:
    fill()
    out = cli("queues", "show", "--watch", "--interval", "0.1", "--count", "2")
    assert out.code == 0
    snapshots = out.stdout.split("\n\n")
    assert len([s for s in snapshots if s.strip()]) == 2
    golden("queues_watch.plain", out.stdout)


def test_watch_ctrl_c_exits_130_without_traceback(key_prefix: str) -> None:
    env = {
        **os.environ,
        "TASKCTL_SETTINGS": "tests.settings",
        "TASKCTL_KEY_PREFIX": key_prefix,
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "taskctl", "queues", "show", "--watch", "--interval", "0.2", "-o", "json"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()  # a first snapshot: it is watching
    assert json.loads(first)["kind"] == "queues"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert "Traceback" not in err


# ----- errors -----
def test_unknown_queue_exits_3_naming_it() -> None:
    out = cli("queues", "show", "default", "nope")
    assert out.code == 3
    assert out.stderr.strip().splitlines() == [
        "taskctl: error: unknown queue 'nope' (configured: default, high, low)"
    ]
    assert out.stdout == ""


@pytest.fixture
def dead_broker(settings: Any) -> str:
    url = "redis://:secret@127.0.0.1:1/0"
    settings.SCHEDULER = {**settings.SCHEDULER, "BROKER_URL": url}
    reset_config()
    return url


@pytest.mark.parametrize(
    "args",
    [
        ("queues", "show"),
        ("queues", "show", "--watch", "--count", "2", "-o", "json"),
        ("queues", "clear", "default", "--registry", "failed", "--yes"),
    ],
)
def test_unreachable_broker_exits_69_one_line(dead_broker: str, args: tuple[str, ...]) -> None:
    out = cli(*args)
    assert out.code == 69
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "taskctl: error: broker redis://:***@127.0.0.1:1/0 unreachable"
    )
    assert "secret" not in out.stderr


def test_unreachable_broker_within_3_seconds(dead_broker: str) -> None:
    t = time.monotonic()
    assert cli("queues", "show").code == 69
    assert time.monotonic() - t < 3.0


# ----- clear -----
def test_clear_off_tty_needs_yes(clock: float, key_prefix: str) -> None:
    fill()
    before = digest(key_prefix)
    out = cli("queues", "clear", "default", "--registry", "failed")
    assert out.code == 2
    assert out.stderr.strip().splitlines() == [
        "taskctl: error: clearing failed of queue 'default' needs --yes when not on a terminal"
    ]
    assert digest(key_prefix) == before


def test_clear_with_yes(clock: float) -> None:
    fill()
    out = cli("queues", "clear", "default", "--registry", "queued", "--yes")
    assert out.code == 0, out.stderr
    assert out.stderr == "deleted 3 queued job(s) from queue 'default'\n"
    q = get_queue("default")
    assert q.counts(now=NOW)["queued"] == 0 and q.fetch_job("job-q1") is None
    assert q.counts(now=NOW)["failed"] == 1  # other registries untouched
    doc = json.loads(cli("queues", "clear", "default", "-r", "scheduled", "-y", "-o", "json").stdout)
    assert doc == {
        "version": 1,
        "kind": "queue-clear",
        "queue": "default",
        "registry": "scheduled",
        "deleted": 2,
    }


@pytest.mark.parametrize(
    ("registry", "message"),
    [
        ("active", "the active registry cannot be cleared: stop the jobs instead"),
        ("bogus", "unknown registry 'bogus' (one of: scheduled, queued, active, finished, failed, canceled)"),
    ],
)
def test_clear_bad_registry_exits_3(registry: str, message: str) -> None:
    out = cli("queues", "clear", "default", "--registry", registry, "--yes")
    assert out.code == 3
    assert out.stderr.strip() == f"taskctl: error: {message}"


def test_clear_unknown_queue_exits_3() -> None:
    out = cli("queues", "clear", "nope", "--registry", "failed", "--yes")
    assert out.code == 3 and "unknown queue 'nope'" in out.stderr


def test_run_maps_errors_like_cli_helper(capsys: pytest.CaptureFixture[str]) -> None:
    """The helper's mapping is the real one: `taskctl.app.run` gives the same code and line."""
    assert run(["queues", "show", "nope"]) == 3
    assert capsys.readouterr().err.startswith("taskctl: error: unknown queue 'nope'")
