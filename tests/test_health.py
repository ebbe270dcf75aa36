"""`taskctl health`: exit 0 when healthy, else 1 with one line per failed check (real Redis, real DB)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import reset_config
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.scheduler.leader import Leader
from scheduler_core.worker.heartbeat import Heartbeat
from tests.cli import cli
from tests.conftest import REDIS_URL
from tests.processes import REPO, WorkerProc, wait_for

pytestmark = pytest.mark.django_db


def add_worker(name: str, queues: list[str], state: str = "idle") -> None:
    q = get_queue(queues[0])
    Heartbeat(name, [get_queue(n) for n in queues], q.config, q.connection).register(time.time(), 1)
    q.connection.hset(GlobalKeys(q.config.key_prefix).worker(name), "state", state)


def lead() -> Leader:
    q = get_queue("default")
    leader = Leader(q.connection, GlobalKeys(q.config.key_prefix).scheduler_lock, 30)
    assert leader.ensure()
    return leader


def test_healthy_is_exit_0_with_one_line() -> None:
    add_worker("w1", ["default", "high", "low"])
    lead()
    out = cli("health")
    assert (out.code, out.stdout) == (0, "healthy: 8 checks passed\n"), out.stderr


def test_each_failed_check_is_one_line_and_exit_1() -> None:
    add_worker("w1", ["default"])
    add_worker("w2", ["high"], state="suspended")
    out = cli("health")
    assert out.code == 1, out.stderr
    assert out.stdout == (
        "scheduler: no scheduler holds the leader lock\n"
        'workers: queue "high": no live worker (1 suspended)\n'
        'workers: queue "low": no live worker\n'
    )
    assert out.stderr == ""


def test_queue_and_skip_narrow_the_checks() -> None:
    add_worker("w1", ["default"])
    assert cli("health", "--queue", "default", "--skip", "scheduler").code == 0
    out = cli("health", "-q", "default", "-q", "low", "--skip", "scheduler", "--skip", "database")
    assert (out.code, out.stdout) == (1, 'workers: queue "low": no live worker\n')


def test_worker_names_a_pod_of_its_own() -> None:
    """A liveness probe of one worker: live whatever its state (suspended is an operator's choice)."""
    add_worker("pod-a", ["default"], state="suspended")
    only = ["--skip", "broker", "--skip", "database", "--skip", "scheduler", "--skip", "workers"]
    out = cli("health", *only, "--worker", "pod-a", "-o", "json")
    assert out.code == 0
    assert json.loads(out.stdout)["checks"] == [
        {"name": "worker", "target": "pod-a", "ok": True, "detail": "live (suspended)"}
    ]
    out = cli("health", *only, "-w", "pod-a", "-w", "pod-b")
    assert (out.code, out.stdout) == (1, 'worker: worker "pod-b": not running (no fresh heartbeat)\n')


def test_max_oldest_queued() -> None:
    add_worker("w1", ["default", "high", "low"])
    lead()
    get_queue("default").enqueue_call(JobCall("tests.jobs.noop"), now=time.time() - 600)
    assert cli("health", "--max-oldest-queued", "15m").code == 0
    out = cli("health", "--max-oldest-queued", "5m")
    assert out.code == 1
    assert re.fullmatch(
        r'oldest_queued: queue "default": oldest queued job waited 60\d(\.\d+)?s \(limit 300s\)\n', out.stdout
    )


def test_json_lists_every_check() -> None:
    add_worker("w1", ["default", "high"])
    out = cli("health", "-o", "json")
    assert out.code == 1
    doc = json.loads(out.stdout)
    assert (doc["version"], doc["kind"], doc["healthy"]) == (1, "health", False)
    got = {(c["name"], c["target"]): c["ok"] for c in doc["checks"]}
    assert got == {
        ("broker", "default"): True, ("broker", "high"): True, ("broker", "low"): True,
        ("database", ""): True, ("scheduler", ""): False,
        ("workers", "default"): True, ("workers", "high"): True, ("workers", "low"): False,
    }  # fmt: skip


def test_an_unreachable_broker_is_a_failed_check_not_an_error(settings: Any) -> None:
    conf = dict(settings.SCHEDULER)
    conf["QUEUES"] = {"default": {}, "far": {"BROKER_URL": "redis://:secret@127.0.0.1:1/0"}}
    conf["CONNECT_TIMEOUT"] = 1
    settings.SCHEDULER = conf
    reset_config()
    add_worker("w1", ["default", "far"])
    lead()
    started = time.monotonic()
    out = cli("health")
    assert time.monotonic() - started < 10
    assert out.code == 1, out.stderr
    assert out.stdout.startswith('broker: queue "far": broker redis://:***@127.0.0.1:1/0 unreachable: ')
    assert out.stdout.count("\n") == 1 and "secret" not in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--queue", "nope"], "unknown queue 'nope'"),
        (["--max-oldest-queued", "soon"], '--max-oldest-queued: invalid duration "soon"'),
        (["--skip", "coffee"], "unknown check(s) coffee"),
    ],
)
def test_bad_options_are_exit_3(args: list[str], message: str) -> None:
    out = cli("health", *args)
    assert out.code == 3 and message in out.stderr and out.stdout == ""


def _env(prefix: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "TASKCTL_SETTINGS")}
    env.update({"TASKCTL_KEY_PREFIX": prefix, "PYTHONPATH": str(REPO), **extra})
    return env


def test_an_unreachable_database_is_a_failed_check(key_prefix: str, tmp_path: Path) -> None:
    env = _env(key_prefix, TASKCTL_BROKER_URL=REDIS_URL, TASKCTL_DATABASE_URL="postgres://u:pw@127.0.0.1:1/x")
    out = subprocess.run(
        [sys.executable, "-m", "taskctl", "health", "--skip", "workers", "--skip", "scheduler"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert out.stdout.startswith("database: database unreachable: ") and out.stdout.count("\n") == 1


def test_no_settings_is_78(tmp_path: Path, key_prefix: str) -> None:
    env = _env(key_prefix, TASKCTL_SETTINGS="no.such.settings")
    out = subprocess.run(
        [sys.executable, "-m", "taskctl", "health"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 78 and out.stderr.startswith("taskctl: error: settings module")


@pytest.mark.process
def test_a_probe_follows_a_real_worker(
    worker: WorkerProc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Kubernetes-probe flow: a worker with its scheduler up -> 0; the worker gone -> 1."""
    monkeypatch.setenv("TASKCTL_TEST_DATABASE_URL", f"sqlite:///{tmp_path}/health.sqlite3")
    subprocess.run([sys.executable, "-m", "taskctl", "db", "migrate"], env=worker.env(), check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    proc = worker.start("--with-scheduler", "default", "high", "low")
    probe = [sys.executable, "-m", "taskctl", "health", "--worker", worker.name]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            probe, env=worker.env(), cwd=tmp_path, capture_output=True, text=True, timeout=60
        )

    healthy = wait_for(lambda: (r := run()).returncode == 0 and r, 30, "healthy")
    assert healthy.stdout == "healthy: 9 checks passed\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0, worker.stderr()
    out = run()
    assert out.returncode == 1
    assert out.stdout == (
        "scheduler: no scheduler holds the leader lock\n"
        'workers: queue "default": no live worker\n'
        'workers: queue "high": no live worker\n'
        'workers: queue "low": no live worker\n'
        f'worker: worker "{worker.name}": not running (no fresh heartbeat)\n'
    )
