"""`isolated_broker()`: a key prefix of the tests' own, and its keys deleted after (see
scheduler_core.testing)."""

from __future__ import annotations

import uuid
from typing import Any

import redis
from django.conf import settings
from django.test.utils import TestContextDecorator, override_settings

from scheduler_core.broker.connection import existing_client
from scheduler_core.conf import SchedulerConfig, get_config


class isolated_broker(TestContextDecorator):
    """SCHEDULER["KEY_PREFIX"] of its own while active, and its keys deleted after: tests never
    see, run or leave jobs under a development broker's prefix (nor each other's).

    A decorator for TestCase classes (each test gets a new prefix) and test functions, or a
    context manager (`with isolated_broker() as prefix:`). Only keys under that prefix are
    deleted, on the brokers this process talked to: never a FLUSHDB."""

    def __init__(self, prefix: str | None = None) -> None:
        super().__init__()
        self.prefix = prefix
        self._override: override_settings | None = None

    def enable(self) -> str:
        conf: dict[str, Any] = dict(getattr(settings, "SCHEDULER", {}))
        base = str(conf.get("KEY_PREFIX", "taskctl"))
        prefix = self.prefix or f"{base}-test-{uuid.uuid4().hex[:12]}"
        conf["KEY_PREFIX"] = prefix
        self._override = override_settings(SCHEDULER=conf)
        self._override.enable()
        return prefix

    def disable(self) -> None:
        assert self._override is not None
        try:
            drop_keys(get_config())
        finally:
            self._override.disable()
            self._override = None


def drop_keys(config: SchedulerConfig) -> int:
    """Delete every key under `config.key_prefix` on the brokers of its queues that this process
    has a client for; returns how many. Broker errors are ignored (tests clean up best-effort)."""
    urls = {q.broker_url for q in config.queues.values()} | {config.broker_url}
    n = 0
    for url in sorted(urls):
        client = existing_client(url, config.connect_timeout)
        if client is None:
            continue
        try:
            batch = list(client.scan_iter(match=f"{config.key_prefix}:*", count=1000))
            for i in range(0, len(batch), 500):
                n += int(client.delete(*batch[i : i + 500]))
        except redis.RedisError:
            continue
    return n
