"""Shared fixtures: a real Redis (TASKCTL_TEST_REDIS_URL) with a key prefix of each test's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from scheduler_core.conf import reset_config

REDIS_URL = os.environ.get("TASKCTL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def key_prefix(settings: pytest.FixtureRequest) -> Iterator[str]:
    """Every test gets its own KEY_PREFIX, so tests can run in parallel on one Redis DB."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    conf = dict(settings.SCHEDULER)  # type: ignore[attr-defined]
    conf["KEY_PREFIX"] = prefix
    conf["BROKER_URL"] = REDIS_URL
    settings.SCHEDULER = conf  # type: ignore[attr-defined]
    reset_config()
    yield prefix
    reset_config()
    _drop_keys(prefix)


def _drop_keys(prefix: str) -> None:
    r = redis.Redis.from_url(REDIS_URL)
    try:
        batch = list(r.scan_iter(match=f"{prefix}:*", count=1000))
        for i in range(0, len(batch), 500):
            r.delete(*batch[i : i + 500])
    finally:
        r.close()


@pytest.fixture
def redis_client() -> Iterator[object]:
    r = redis.Redis.from_url(REDIS_URL)
    yield r
    r.close()
