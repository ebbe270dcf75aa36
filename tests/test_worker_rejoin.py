"""A worker taken for dead while out of reach rejoins with a whole record: its next heartbeat
finds the record gone (a peer removed it) and writes it again under its own name."""

from __future__ import annotations

import os
import socket

from scheduler_core.broker.connection import get_client
from scheduler_core.conf import get_config
from scheduler_core.queues.queue import get_queue
from scheduler_core.worker.heartbeat import Heartbeat

T = 1_800_000_000.0


def _heartbeat(name: str) -> Heartbeat:
    cfg = get_config()
    return Heartbeat(name, [get_queue("high"), get_queue("default")], cfg, get_client(cfg.broker_url))


def test_a_worker_removed_as_dead_is_registered_whole_again_by_its_next_beat(caplog) -> None:
    lease = get_config().lease_ttl
    far, near = _heartbeat("far"), _heartbeat("near")
    far.register(T, 4)
    near.register(T, 1)
    # far is out of reach: near's beats outlive its lease and remove its record
    near.beat(T + lease + 1, "idle", [], 0, 0)
    assert near.client.exists(near.keys.worker("far")) == 0
    # the link heals: far beats again
    far.beat(T + lease + 2, "busy", [], 7, 1)
    record = near.client.hgetall(near.keys.worker("far"))
    assert record == {
        "name": "far", "host": socket.gethostname(), "pid": str(os.getpid()), "queues": '["high","default"]',
        "started_at": repr(T), "concurrency": "4", "state": "busy", "current_jobs": "[]", "jobs_done": "7",
        "jobs_failed": "1", "last_heartbeat": repr(T + lease + 2),
    }  # fmt: skip
    assert near.client.ttl(near.keys.worker("far")) > 0
    assert "far: its record was gone" in caplog.text
