"""A broker at its memory limit (maxmemory + noeviction): its own error, exit 69, exact counts.

Each test fills a private redis-server of its own; the shared test Redis is never touched."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler_core.conf import reset_config
from scheduler_core.errors import BrokerOutOfMemory, EnqueueIncomplete
from scheduler_core.queues.queue import JobCall, get_queue
from tests.private_redis import SERVER, PrivateRedis

pytestmark = pytest.mark.skipif(SERVER is None, reason="no redis-server binary on PATH")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def full_redis(settings: object, key_prefix: str) -> Iterator[PrivateRedis]:
    """A private server with a small memory limit, used as the test's broker."""
    server = PrivateRedis("--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
    conf = dict(settings.SCHEDULER)  # type: ignore[attr-defined]
    conf["BROKER_URL"] = server.url
    settings.SCHEDULER = conf  # type: ignore[attr-defined]
    reset_config()
    yield server
    reset_config()
    server.stop()


def fill_up(server: PrivateRedis) -> None:
    """Put the server over its limit for good: 2 MB of ballast, then a 1 MB limit."""
    c = server.client()
    c.config_set("maxmemory", 0)
    for i in range(20):
        c.set(f"ballast:{i}", "x" * 100_000)
    c.config_set("maxmemory", "1mb")
    c.close()


def test_enqueue_many_reports_exactly_what_it_wrote(full_redis: PrivateRedis) -> None:
    q = get_queue("default")
    calls = [JobCall("tests.jobs.add", (i, i)) for i in range(30_000)]
    with pytest.raises(EnqueueIncomplete) as info:
        q.enqueue_many(calls)
    err = info.value
    assert 0 < err.written < 30_000 and err.total == 30_000 and len(err.ids) == err.written
    assert err.exit_code == 69 and str(err).startswith("broker out of memory: ")
    assert f"{err.written} of 30000 jobs were enqueued" in str(err)
    c = full_redis.client()
    stored = c.lrange(q.keys.queued, 0, -1)
    assert stored == err.ids  # every id it names is stored, in order, and nothing else
    assert all(c.exists(q.keys.job(i)) for i in err.ids[:: max(1, err.written // 50)])
    # with room again, the rest goes in and nothing is doubled
    c.config_set("maxmemory", 0)
    q.enqueue_many([JobCall("tests.jobs.add", (i, i)) for i in range(30_000 - err.written)])
    assert q.count("queued") == 30_000


def test_enqueue_many_that_writes_nothing_says_so(full_redis: PrivateRedis) -> None:
    fill_up(full_redis)
    q = get_queue("default")
    with pytest.raises(EnqueueIncomplete) as info:
        q.enqueue_many([JobCall("tests.jobs.add", (1, 2)) for _ in range(1200)])
    assert (info.value.written, info.value.ids) == (0, [])
    assert q.count("queued") == 0


def test_one_enqueue_raises_broker_out_of_memory(full_redis: PrivateRedis) -> None:
    fill_up(full_redis)
    with pytest.raises(BrokerOutOfMemory, match=r"^broker out of memory: ") as info:
        get_queue("default").enqueue("tests.jobs.add", 1, 2)
    assert info.value.exit_code == 69
    assert not isinstance(info.value, EnqueueIncomplete)


def _taskctl(server: PrivateRedis, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TASKCTL_BROKER_URL=server.url, PYTHONPATH=str(REPO),
               TASKCTL_ALLOWED_CALLABLES="tests.jobs")  # fmt: skip
    for name in ("TASKCTL_SETTINGS", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "taskctl", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_cli_commands_say_broker_out_of_memory_and_exit_69(full_redis: PrivateRedis, tmp_path: Path) -> None:
    fill_up(full_redis)
    for argv in (("jobs", "enqueue", "tests.jobs.add", "1", "2"), ("worker", "start", "--burst")):
        out = _taskctl(full_redis, tmp_path, *argv)
        assert out.returncode == 69, (argv, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("taskctl: error: broker out of memory"), out.stderr
    out = _taskctl(full_redis, tmp_path, "queues", "show", "-o", "json")  # reading works when full
    assert out.returncode == 0, out.stderr
