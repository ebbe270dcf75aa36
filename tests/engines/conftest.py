"""Fixtures of the engine tests: a private deployment per module, and the suite configured on it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from scheduler_core.broker.connection import get_client, reset_clients
from scheduler_core.conf import get_config, reset_config
from scheduler_core.queues.queue import get_queue
from tests.engines.servers import CLI, SERVER
from tests.processes import WorkerProc

needs_servers = pytest.mark.skipif(
    SERVER is None or CLI is None, reason="no redis-server / redis-cli on PATH"
)


class EngineWorkers(WorkerProc):
    """Workers of the engine tests: on the deployment's URL and the test's queues."""

    def __init__(self, prefix: str, tmp: Path, url: str, queues: list[str], db: str | None = None) -> None:
        super().__init__(prefix, tmp)
        self.url = url
        self.queues = queues
        self.db = db

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update({"TASKCTL_SETTINGS": "tests.engines.settings", "TASKCTL_TEST_REDIS_URL": self.url,
                    "TASKCTL_ENGINE_QUEUES": ",".join(self.queues)})  # fmt: skip
        if self.db is not None:
            env["TASKCTL_TEST_DATABASE_URL"] = self.db
        return env

    def taskctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "taskctl", *args]
        return subprocess.run(
            argv, env=self.env(), cwd=self.tmp, capture_output=True, text=True, timeout=timeout
        )


def configure(settings: Any, url: str, queues: list[str]) -> None:
    """Point this process's configuration at `url` with `queues` (the key prefix stays the test's)."""

    conf = dict(settings.SCHEDULER)
    conf["BROKER_URL"] = url
    conf["QUEUES"] = {q: {} for q in queues}
    conf["LEASE_TTL"] = 3
    settings.SCHEDULER = conf
    reset_config()
    reset_clients()


def finished(queues: Iterable[str]) -> int:
    """Jobs in the finished registries of `queues`."""
    return sum(get_queue(q).count("finished") for q in queues)


def run_counts(prefix: str, tokens: Iterable[str]) -> list[int]:
    """How often each `tests.jobs.record(token)` ran, in one pipelined round of GETs."""
    pipe = get_client(get_config().broker_url).pipeline(transaction=False)
    for token in tokens:
        pipe.get(f"{prefix}:runs:{token}")
    return [int(n or 0) for n in pipe.execute()]
