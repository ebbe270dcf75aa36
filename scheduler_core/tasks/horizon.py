"""How far the scheduler plans: the misfire grace, and the reach (the latest due time ever
planned, kept on the broker) up to which an edit looks for a task's pending jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler_core.broker.connection import get_client
from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import SchedulerConfig


def grace(config: SchedulerConfig) -> timedelta:
    """How late an occurrence may be handed over and still count as on time (not a misfire)."""
    return timedelta(seconds=config.misfire_grace)


def reach_key(config: SchedulerConfig) -> str:
    return GlobalKeys(config.key_prefix).scheduler_reach


def note_reach(config: SchedulerConfig, horizon: datetime) -> None:
    """Remember the latest due time ever planned (ZADD GT keeps the maximum): an edit looks for a
    task's pending jobs up to there (tasks.replan.tasks_changed)."""
    client = get_client(config.broker_url, config.connect_timeout)
    client.zadd(reach_key(config), {"reach": horizon.timestamp()}, gt=True)


def planned_reach(config: SchedulerConfig) -> float | None:
    return get_client(config.broker_url, config.connect_timeout).zscore(reach_key(config), "reach")
