"""The Queues page: one row per queue (six registry counts, workers, oldest queued age, broker and
whether it answered) and the leader scheduler. One pipelined round trip per broker plus one GET for
the leader lock, whatever the number of jobs; nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scheduler_core import inspect
from scheduler_core.broker.connection import get_client, mask_url
from scheduler_core.broker.keys import REGISTRIES, GlobalKeys
from scheduler_core.conf import QueueConfig, get_config
from scheduler_core.errors import BrokerUnavailable
from scheduler_core.inspect import broker_errors
from scheduler_core.scheduler.leader import describe_token


@dataclass
class Overview:
    queues: list[dict[str, Any]]
    leader: dict[str, Any] | None  # host, pid, since (aware datetime or None)
    leader_error: str = ""
    taken_at: float = 0.0


def _unreachable(name: str, url: str, error: str) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "broker": mask_url(url), "reachable": False, "error": error}
    row.update(dict.fromkeys(REGISTRIES))
    row.update(workers=None, oldest_queued_age=None)
    return row


def leader() -> dict[str, Any] | None:
    """The scheduler holding the leader lock (on the main broker), or None when none holds it."""
    config = get_config()
    with broker_errors(config.broker_url):
        token = get_client(config.broker_url, config.connect_timeout).get(
            GlobalKeys(config.key_prefix).scheduler_lock
        )
    if token is None:
        return None
    out = describe_token(str(token))
    out["since"] = datetime.fromtimestamp(out["since"], UTC) if out["since"] is not None else None
    return out


def queue_overview(*, now: float | None = None) -> Overview:
    """Every configured queue; a broker that does not answer marks its queues unreachable and
    leaves the others alone."""
    config = get_config()
    t = inspect.clock() if now is None else now
    by_broker: dict[str, list[QueueConfig]] = {}
    for name in config.queues:
        q = config.queue(name)
        by_broker.setdefault(q.broker_url, []).append(q)
    rows: dict[str, dict[str, Any]] = {}
    serving: dict[str, set[str]] = {}
    for url, group in by_broker.items():
        try:
            got, here = inspect._broker_rows(group, config, t)
        except (BrokerUnavailable, OSError) as exc:
            for q in group:
                rows[q.name] = _unreachable(q.name, url, str(exc))
            continue
        for r in got:
            r["reachable"], r["error"] = True, ""
            rows[r["name"]] = r
        for qname, found in here.items():
            serving.setdefault(qname, set()).update(found)
    for r in rows.values():
        if r["reachable"]:
            r["workers"] = len(serving.get(r["name"], set()))
    lead: dict[str, Any] | None = None
    error = ""
    try:
        lead = leader()
    except (BrokerUnavailable, OSError) as exc:
        error = str(exc)
    return Overview([rows[n] for n in config.queues], lead, error, t)
