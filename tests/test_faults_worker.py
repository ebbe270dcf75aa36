"""Worker faults at the heartbeat, with injected clocks: a full broker keeps leases and liveness,
a restart under a dead process's name takes over, terminal registries are pruned on the timer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from scheduler_core.broker.connection import get_client
from scheduler_core.conf import get_config, reset_config
from scheduler_core.errors import BrokerOutOfMemory, Conflict
from scheduler_core.jobs.record import JobStatus
from scheduler_core.queues import lifecycle
from scheduler_core.queues.lifecycle import Outcome
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.worker.heartbeat import Heartbeat
from tests.private_redis import SERVER, PrivateRedis
from tests.test_faults_oom import fill_up

T = 1_800_000_000.0


def heartbeat(name: str = "w1") -> Heartbeat:
    cfg = get_config()
    return Heartbeat(name, [get_queue("default")], cfg, get_client(cfg.broker_url))


@pytest.fixture
def private_broker(settings: object, key_prefix: str) -> Iterator[PrivateRedis]:
    if SERVER is None:
        pytest.skip("no redis-server binary on PATH")

    server = PrivateRedis("--maxmemory-policy", "noeviction")
    conf = dict(settings.SCHEDULER)  # type: ignore[attr-defined]
    conf["BROKER_URL"] = server.url
    settings.SCHEDULER = conf  # type: ignore[attr-defined]
    reset_config()
    yield server
    reset_config()
    server.stop()


def test_a_full_broker_keeps_leases_and_the_worker_alive(private_broker: PrivateRedis) -> None:
    q = get_queue("default")
    job = q.enqueue("tests.jobs.add", 1, 2)
    hb = heartbeat()
    hb.register(T, 1)
    claimed = lifecycle.claim(q, "w1", now=T)
    assert claimed is not None
    fill_up(private_broker)
    later = T + q.config.lease_ttl * 0.9
    with pytest.raises(BrokerOutOfMemory):
        hb.beat(later, "busy", [(0, job.id)], 0, 0)
    c = private_broker.client()
    assert c.zscore(q.keys.active, job.id) == later + q.config.lease_ttl  # lease renewed
    assert c.zscore(hb.keys.workers, "w1") == later  # still alive to its peers
    # past the first lease, nothing was reaped: the job still runs here and may finish
    assert lifecycle.reap(q, now=T + q.config.lease_ttl * 1.5) == []
    recorded, _ = lifecycle.complete(q, claimed, Outcome(JobStatus.FINISHED, {"result": "3"}), worker="w1")
    assert recorded and q.count("finished") == 1


def test_restart_under_the_name_of_a_dead_process_takes_over(private_broker: PrivateRedis) -> None:
    hb = heartbeat("same")
    hb.register(T, 1)
    c = private_broker.client()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    c.hset(hb.keys.worker("same"), "pid", dead.pid)  # the record of a SIGKILLed worker
    heartbeat("same").register(T + 1, 1)  # no Conflict: that process is gone
    assert c.hget(hb.keys.worker("same"), "pid") == str(os.getpid())
    c.hset(hb.keys.worker("same"), "pid", os.getppid())  # alive: a real second worker
    with pytest.raises(Conflict, match="already running"):
        heartbeat("same").register(T + 2, 1)
    c.hset(hb.keys.worker("same"), mapping={"pid": dead.pid, "host": socket.gethostname() + "-other"})
    with pytest.raises(Conflict):  # another host's pid says nothing here
        heartbeat("same").register(T + 3, 1)


def test_heartbeat_prunes_expired_terminal_entries(private_broker: PrivateRedis) -> None:
    q = get_queue("default")
    jobs = q.enqueue_many([JobCall("tests.jobs.add", (i, i), result_ttl=20) for i in range(50)], now=T)
    for _job in jobs:
        claimed = lifecycle.claim(q, "w1", now=T)
        assert claimed is not None
        lifecycle.complete(q, claimed, Outcome(JobStatus.FINISHED, {"result": "0"}), worker="w1", now=T)
    c = private_broker.client()
    assert c.zcard(q.keys.finished) == 50 and len(jobs) == 50
    hb = heartbeat()
    hb.register(T, 1)
    hb.beat(T + 10, "idle", [], 0, 0)
    assert c.zcard(q.keys.finished) == 50
    hb.beat(T + 21, "idle", [], 0, 0)  # no job ended since: the timer alone prunes
    assert c.zcard(q.keys.finished) == 0
