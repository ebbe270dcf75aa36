"""One reading of the broker for metrics and health: read-only, cost independent of registry size.

Per broker, one pipelined round trip reads, for each of its queues, the six registry sizes
(ZCARD / LLEN / ZCOUNT), the head of `queued` (LINDEX 0), the earliest scheduled entry (ZRANGE 0 0)
and the stats hash (a bounded number of fields). The main broker (SCHEDULER["BROKER_URL"], where
workers register and the leader lock lives) adds the live workers and the lock. A second round
trip reads the head jobs' `enqueued_at` and the live workers' queues and state: O(queues +
workers), never O(jobs). No SORT with GET patterns, so it works on Redis Cluster too.

A broker that does not answer is recorded as down (its queues have no figures); the others are
still read, so one broker's outage does not hide the rest.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scheduler_core.broker.keys import REGISTRIES, GlobalKeys, QueueKeys

if TYPE_CHECKING:
    import redis

    from scheduler_core.conf import QueueConfig, SchedulerConfig


@dataclass
class QueueReading:
    name: str
    broker: str  # the masked URL
    up: bool = False
    error: str = ""  # why the broker did not answer
    counts: dict[str, int] = field(default_factory=dict)
    oldest_queued: float = 0.0  # seconds the head of `queued` has waited (0: empty)
    next_due: float | None = None  # epoch seconds of the earliest scheduled job
    stats: dict[str, str] = field(default_factory=dict)  # the stats hash


@dataclass
class Reading:
    now: float
    queues: list[QueueReading]
    workers_up: bool = False  # the main broker answered (workers and leader are known)
    workers_error: str = ""
    # queue -> state -> live workers serving it (a worker serving two queues counts in both)
    workers: dict[str, Counter[str]] = field(default_factory=dict)
    leader: str | None = None  # the lock's token ("host:pid:nonce"), None when no scheduler leads
    live: dict[str, str] = field(default_factory=dict)  # live worker name -> state

    @property
    def lateness(self) -> float:
        """Seconds the most overdue scheduled job has waited past its due time (0: none due)."""
        due = [q.next_due for q in self.queues if q.next_due is not None]
        return max(0.0, self.now - min(due)) if due else 0.0


_lock = threading.Lock()
_clients: dict[tuple[str, float], redis.Redis] = {}


def client_for(url: str, timeout: float) -> redis.Redis:
    """A client whose every reply also times out after `timeout` (a scrape or a probe must answer
    in seconds, not after the default 30 s of a hung broker)."""
    from scheduler_core.broker.connection import connect

    key = (url, timeout)
    with _lock:
        c = _clients.get(key)
        if c is None:
            c = _clients[key] = connect(url, timeout, socket_timeout=timeout)
        return c


def read(config: SchedulerConfig, names: Sequence[str] = (), *, now: float | None = None) -> Reading:
    """Read the named queues (all configured ones when none); an unknown name is UnknownQueue."""
    from scheduler_core.broker.connection import mask_url

    queues = [config.queue(n) for n in (dict.fromkeys(names) if names else config.queues)]
    t = time.time() if now is None else now
    reading = Reading(now=t, queues=[QueueReading(q.name, mask_url(q.broker_url)) for q in queues])
    by_name = {r.name: r for r in reading.queues}
    groups: dict[str, list[QueueConfig]] = {config.broker_url: []}
    for q in queues:
        groups.setdefault(q.broker_url, []).append(q)
    for url, group in groups.items():
        main = url == config.broker_url
        try:
            _read_broker(config, url, group, main, reading, by_name)
        except Exception as exc:
            if not _is_unavailable(exc):
                raise
            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            for q in group:
                by_name[q.name].up = False
                by_name[q.name].error = why
            if main:
                reading.workers_up = False
                reading.workers_error = why
    return reading


def _is_unavailable(exc: BaseException) -> bool:
    import redis

    from scheduler_core.errors import BrokerUnavailable

    return isinstance(exc, (redis.ConnectionError, redis.TimeoutError, BrokerUnavailable))


def _read_broker(
    config: SchedulerConfig,
    url: str,
    queues: list[QueueConfig],
    main: bool,
    reading: Reading,
    by_name: dict[str, QueueReading],
) -> None:
    t = reading.now
    client = client_for(url, config.connect_timeout)
    g = GlobalKeys(config.key_prefix)
    pipe = client.pipeline(transaction=False)
    for q in queues:
        k = QueueKeys(config.key_prefix, q.name)
        for command in k.count_commands(t):
            pipe.execute_command(*command)  # type: ignore[no-untyped-call]
        pipe.lindex(k.queued, 0)
        pipe.zrange(k.scheduled, 0, 0, withscores=True)
        pipe.hgetall(k.stats)
    if main:
        pipe.zrangebyscore(g.workers, repr(t - config.lease_ttl), "+inf")
        pipe.get(g.scheduler_lock)
    replies: list[Any] = pipe.execute()
    per_queue = len(REGISTRIES) + 3
    heads: list[tuple[QueueReading, str]] = []
    for i, q in enumerate(queues):
        chunk = replies[i * per_queue : (i + 1) * per_queue]
        r = by_name[q.name]
        r.up = True
        r.counts = dict(zip(REGISTRIES, (int(n) for n in chunk[: len(REGISTRIES)]), strict=True))
        head, first, r.stats = chunk[len(REGISTRIES) :]
        r.next_due = float(first[0][1]) if first else None
        if head is not None:
            heads.append((r, str(head)))
    alive: list[str] = []
    if main:
        alive, leader = replies[-2], replies[-1]
        reading.leader = str(leader) if leader is not None else None
    if not heads and not alive:
        if main:
            reading.workers_up = True
        return
    pipe = client.pipeline(transaction=False)
    for r, head in heads:
        pipe.hget(QueueKeys(config.key_prefix, r.name).job(head), "enqueued_at")
    for name in alive:
        pipe.hmget(g.worker(name), "queues", "state")
    second: list[Any] = pipe.execute()
    for (r, _), enqueued in zip(heads, second, strict=False):
        # no record: the head was claimed and finished between the two reads (the queue moved)
        r.oldest_queued = round(max(0.0, t - float(enqueued)), 3) if enqueued else 0.0
    if main:
        from scheduler_core.inspect import _worker_queues

        for name, (queues_raw, state) in zip(alive, second[len(heads) :], strict=True):
            reading.live[str(name)] = state or "idle"
            for qname in _worker_queues(queues_raw):
                reading.workers.setdefault(qname, Counter())[state or "idle"] += 1
        reading.workers_up = True
