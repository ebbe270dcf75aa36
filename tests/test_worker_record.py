"""A worker taken for dead (its record removed while it could not reach the broker, e.g. through a
failover) writes its whole record again at its next heartbeat, so the views see it whole."""

from __future__ import annotations

import time

from scheduler_core.broker.connection import get_client
from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import get_config
from scheduler_core.queues.queue import get_queue
from scheduler_core.worker import control
from scheduler_core.worker.heartbeat import Heartbeat


def test_a_record_removed_meanwhile_is_written_whole_again() -> None:
    cfg = get_config()
    r = get_client(cfg.broker_url)
    hb = Heartbeat("w-record", [get_queue("default"), get_queue("low")], cfg, r)
    now = time.time()
    hb.register(now, concurrency=3)
    r.delete(GlobalKeys(cfg.key_prefix).worker("w-record"))  # as another worker's beat does for the dead
    hb.beat(now + 1, "busy", [], 5, 1)
    (w,) = control.list_workers()
    assert (w["name"], w["queues"], w["pid"] > 0, w["started_at"] is not None) == (
        "w-record", ["default", "low"], True, True
    )  # fmt: skip
    assert (w["state"], w["jobs_done"], w["jobs_failed"]) == ("busy", 5, 1)
    before = r.hgetall(GlobalKeys(cfg.key_prefix).worker("w-record"))
    hb.beat(now + 2, "idle", [], 6, 1)  # an ordinary beat rewrites only what changes
    after = r.hgetall(GlobalKeys(cfg.key_prefix).worker("w-record"))
    assert {k: v for k, v in after.items() if before.get(k) != v}.keys() == {
        "state",
        "jobs_done",
        "last_heartbeat",
    }
