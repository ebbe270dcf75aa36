"""Broker-only commands in real processes: they read the settings module without setting Django up,
`queues show` reads the broker without redis-py, and settings and broker errors keep their exit
codes (78, 69)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scheduler_core.broker import oneshot
from scheduler_core.errors import BrokerUnavailable
from scheduler_core.inspect import queue_stats
from scheduler_core.queues.queue import JobCall, get_queue
from tests.conftest import REDIS_URL
from tests.data import fill
from tests.processes import taskctl

REPO = Path(__file__).resolve().parent.parent
COUNTS = ("scheduled", "queued", "active", "finished", "failed", "canceled")


def _env(key_prefix: str, **extra: str) -> dict[str, str]:
    drop = {"DJANGO_SETTINGS_MODULE", "TASKCTL_SETTINGS", "TASKCTL_DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(TASKCTL_SETTINGS="tests.settings", TASKCTL_KEY_PREFIX=key_prefix, PYTHONPATH=str(REPO))
    env.update(extra)
    return env


def _run_probe(args: list[str], env: dict[str, str]) -> tuple[int, str, list[str]]:
    """Run the CLI in a fresh interpreter: its exit code, stdout, and which heavy packages it loaded."""
    probe = (
        "import contextlib, io, json, sys\n"
        "from taskctl.app import run\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = run({args!r})\n"
        "heavy = {'django', 'redis', 'rich', 'pydantic', 'asyncio'}\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & heavy)\n"
        "print(json.dumps({'code': code, 'stdout': out.getvalue(), 'loaded': loaded}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    return doc["code"], doc["stdout"], doc["loaded"]


def _taskctl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return taskctl(*args, env=env, cwd=REPO)


def test_queues_show_loads_neither_django_nor_redis_py(key_prefix: str) -> None:
    fill(time.time())
    code, stdout, loaded = _run_probe(["queues", "show", "-o", "json"], _env(key_prefix))
    assert code == 0
    assert loaded == []
    doc = json.loads(stdout)
    default = doc["queues"][0]
    assert default["name"] == "default"
    assert {k: default[k] for k in COUNTS} == {
        "scheduled": 2,
        "queued": 3,
        "active": 1,
        "finished": 1,
        "failed": 1,
        "canceled": 1,
    }
    assert 124 <= default["oldest_queued_age"] < 185
    assert doc["totals"]["queued"] == 4


@pytest.mark.parametrize(
    "args", [["jobs", "list", "default", "-o", "json"], ["workers", "list", "-o", "json"]]
)
def test_other_broker_commands_do_not_set_django_up(key_prefix: str, args: list[str]) -> None:
    fill(time.time())
    code, stdout, loaded = _run_probe(args, _env(key_prefix))
    assert code == 0
    assert "django" not in loaded
    assert json.loads(stdout)["version"] == 1


def test_jobs_show_names_the_task_from_the_database(key_prefix: str, tmp_path: Path) -> None:
    """A job made by a task still shows the task's name: that one lookup sets Django up."""
    db = tmp_path / "db.sqlite3"
    env = _env(key_prefix, TASKCTL_SETTINGS="taskctl.settings", TASKCTL_DATABASE_URL=f"sqlite:///{db}")
    env.update(TASKCTL_BROKER_URL=REDIS_URL, TASKCTL_QUEUES="default,high,low")
    assert _taskctl("db", "migrate", env=env).returncode == 0
    setup = (
        "import django; django.setup()\n"
        "from scheduler_core.models import Task\n"
        "print(Task.objects.create(name='nightly', type='repeatable', callable='tests.jobs.noop',"
        " interval=3600).pk)\n"
    )
    django_env = {**env, "DJANGO_SETTINGS_MODULE": "taskctl.settings"}
    made = subprocess.run(
        [sys.executable, "-c", setup], env=django_env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    task_id = int(made.stdout.strip().splitlines()[-1])
    get_queue("default").enqueue_call(JobCall("tests.jobs.noop", job_id="job-of-task", task_id=task_id))
    get_queue("default").enqueue_call(JobCall("tests.jobs.noop", job_id="job-by-hand"))
    code, stdout, loaded = _run_probe(["jobs", "show", "job-of-task", "-o", "json"], env)
    assert code == 0 and json.loads(stdout)["task"] == "nightly"
    code, stdout, loaded = _run_probe(["jobs", "show", "job-by-hand", "-o", "json"], env)
    assert code == 0 and json.loads(stdout)["task"] is None
    assert "django" not in loaded


def test_settings_module_that_imports_things(key_prefix: str, tmp_path: Path) -> None:
    (tmp_path / "proj_settings.py").write_text(
        "import decimal\n"
        "from pathlib import Path\n"
        "from django.utils.translation import gettext_lazy as _\n"
        "from tests.settings import *  # noqa: F403\n"
        "LANGUAGES = [('en', _('English'))]\n"
        "BASE_DIR = Path(__file__).resolve().parent\n"
        "SCHEDULER = {**SCHEDULER, 'QUEUES': {'alpha': {}, 'beta': {}}}  # noqa: F405\n"
    )
    env = _env(key_prefix, TASKCTL_SETTINGS="proj_settings")
    result = _taskctl("--pythonpath", str(tmp_path), "queues", "show", "-o", "plain", env=env)
    assert result.returncode == 0, result.stderr
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == ["alpha", "beta"]


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        (None, "cannot be imported"),
        ("import nonexistent_package_xyz\n", "nonexistent_package_xyz"),
        ("from tests.settings import *  # noqa: F403\nSCHEDULER = {'QUEUES': {}}\n", "QUEUES"),
        ("from tests.settings import *  # noqa: F403\nSCHEDULER = {'LEASE_TTL': 'x'}\n", "LEASE_TTL"),
    ],
    ids=["missing", "import-error", "no-queues", "not-a-number"],
)
def test_bad_settings_is_78_for_broker_commands(
    key_prefix: str, tmp_path: Path, source: str | None, needle: str
) -> None:
    if source is not None:
        (tmp_path / "bad_settings.py").write_text(source)
    env = _env(key_prefix, TASKCTL_SETTINGS="bad_settings")
    for args in (("queues", "show"), ("workers", "list"), ("jobs", "list", "default")):
        result = _taskctl("--pythonpath", str(tmp_path), *args, env=env)
        assert result.returncode == 78, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("taskctl: error: ") and needle in lines[0]
        assert result.stdout == ""


def test_unreachable_broker_is_69_within_3_seconds(key_prefix: str, tmp_path: Path) -> None:
    (tmp_path / "dead_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        "SCHEDULER = {**SCHEDULER, 'BROKER_URL': 'redis://:s3cret@127.0.0.1:1/0'}  # noqa: F405\n"
    )
    env = _env(key_prefix, TASKCTL_SETTINGS="dead_settings")
    started = time.monotonic()
    result = _taskctl("--pythonpath", str(tmp_path), "queues", "show", env=env)
    assert time.monotonic() - started < 3.0
    assert result.returncode == 69
    assert result.stderr.strip().splitlines() == [
        "taskctl: error: broker redis://:***@127.0.0.1:1/0 unreachable: Connection refused"
    ]


def test_refused_credentials_are_69() -> None:
    """A password the server does not take (here: one it has no use for) is 69, masked."""
    host = REDIS_URL.split("://", 1)[1]
    with pytest.raises(BrokerUnavailable, match="refused") as info:
        oneshot.execute(f"redis://:not-this-one@{host}", [("PING",)])
    assert "not-this-one" not in str(info.value)


def test_a_database_the_server_does_not_have_is_69() -> None:
    """SELECT refused (index out of range): never a reading of another database."""
    host = REDIS_URL.split("://", 1)[1].split("/", 1)[0]
    with pytest.raises(BrokerUnavailable, match=r"refused the connection: .*DB index"):
        oneshot.execute(f"redis://{host}/100000", [("DBSIZE",)])


@pytest.mark.usefixtures("clock")
def test_redis_py_path_gives_the_same_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """TLS and Sentinel URLs go through redis-py: the same commands give the same reading."""
    fill()
    direct = queue_stats()
    monkeypatch.setattr(oneshot, "supported", lambda url: False)
    through_redis_py = queue_stats()
    assert through_redis_py.queues == direct.queues and through_redis_py.totals == direct.totals
    assert direct.queues[0]["queued"] == 3 and direct.totals["oldest_queued_age"] == 3700.0


@pytest.mark.usefixtures("clock")
def test_old_server_without_sort_ro_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server older than Redis 7 answers SORT_RO with 'unknown command': the reading is redone with SORT."""
    fill()
    real = oneshot.execute
    sent: list[str] = []

    def old_server(url: str, commands: Any, connect_timeout: float = 3.0) -> list[Any]:
        sent.append(str(commands[-1][0]))
        replies = real(url, commands, connect_timeout)
        return [
            oneshot.ReplyError("ERR unknown command 'SORT_RO'") if c[0] == "SORT_RO" else r
            for c, r in zip(commands, replies, strict=True)
        ]

    monkeypatch.setattr(oneshot, "execute", old_server)
    snap = queue_stats()
    assert sent == ["SORT_RO", "SORT"]
    assert snap.queues[0]["oldest_queued_age"] == 125.0 and snap.queues[1]["oldest_queued_age"] == 3700.0
