"""settings.SCHEDULER: every mistake is one ConfigurationError (exit 78) naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler_core.conf import parse_config
from scheduler_core.errors import ConfigurationError


def test_defaults() -> None:
    cfg = parse_config({})
    assert list(cfg.queues) == ["default"] and cfg.key_prefix == "taskctl"


def test_per_queue_broker() -> None:
    cfg = parse_config(
        {"BROKER_URL": "redis://a:6379/0", "QUEUES": {"x": {}, "y": {"BROKER_URL": "redis://b/1"}}}
    )
    assert (cfg.queues["x"].broker_url, cfg.queues["y"].broker_url) == ("redis://a:6379/0", "redis://b/1")


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"BROKR_URL": "redis://x"}, "unknown key(s) BROKR_URL"),
        ({"QUEUES": {"x": {"BROKR_URL": "redis://x"}}}, "['QUEUES']['x']: unknown key(s) BROKR_URL"),
        ({"QUEUES": {}}, "must name at least one queue"),
        ({"QUEUES": {"a b": {}}}, "bad queue name 'a b'"),
        ({"LEASE_TTL": "soon"}, "['LEASE_TTL'] must be a number"),
        ({"KEY_PREFIX": "app{1}"}, "['KEY_PREFIX']: bad prefix 'app{1}'"),
    ],
)
def test_mistakes_are_78(raw: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigurationError) as exc:
        parse_config(raw)
    assert needle in str(exc.value) and exc.value.exit_code == 78
