"""The worker record and everything a heartbeat does.

Each heartbeat: renew the leases of the jobs running here, refresh the worker record, recover
expired leases on every served queue (whoever notices recovers any dead worker's jobs), move due
scheduled jobs (retries) to queued, and remove the records of workers that stopped beating.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.errors import Conflict, is_out_of_memory, out_of_memory
from scheduler_core.jobs.record import dumps, loads
from scheduler_core.queues import lifecycle
from scheduler_core.worker.pidfile import alive

if TYPE_CHECKING:
    import redis

    from scheduler_core.conf import SchedulerConfig
    from scheduler_core.queues.queue import Queue

log = logging.getLogger("taskctl.worker")


def default_name() -> str:
    return f"{socket.gethostname()}.{os.getpid()}"


def live_since(config: SchedulerConfig, now: float) -> float:
    """Heartbeats older than this are from dead workers."""
    return now - config.lease_ttl


class Heartbeat:
    def __init__(
        self,
        name: str,
        queues: Sequence[Queue],
        config: SchedulerConfig,
        client: redis.Redis,
        *,
        server_clock: bool = False,
    ) -> None:
        self.name = name
        self.queues = list(queues)
        self.config = config
        self.client = client
        self.keys = GlobalKeys(config.key_prefix)
        self.record_ttl = max(int(config.lease_ttl * 2), 60)
        self.identity: dict[Any, Any] = {}  # the record's fields that beats do not rewrite
        self.server_clock = server_clock  # a live worker: promotions read the broker's clock

    def register(self, now: float, concurrency: int) -> None:
        """Write the worker record; Conflict when a live worker already has this name."""
        k = self.keys
        score = self.client.zscore(k.workers, self.name)
        if score is not None and float(score) >= live_since(self.config, now):
            if not self._dead_here(k.worker(self.name)):
                raise Conflict(f"a worker named {self.name!r} is already running (choose another --name)")
            log.info("worker %s: its previous process on this host is gone: taking over", self.name,
                     extra={"worker": self.name})  # fmt: skip
        self.identity = {
            "name": self.name, "host": socket.gethostname(), "pid": os.getpid(),
            "queues": dumps([q.name for q in self.queues], "queues"), "started_at": repr(now),
            "concurrency": concurrency,
        }  # fmt: skip
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(k.worker(self.name))
        pipe.hset(k.worker(self.name), mapping={
            **self.identity, "state": "idle", "current_jobs": "[]", "jobs_done": 0, "jobs_failed": 0,
            "last_heartbeat": repr(now),
        })  # fmt: skip
        pipe.expire(k.worker(self.name), self.record_ttl)
        pipe.zadd(k.workers, {self.name: now})
        pipe.execute()

    def _dead_here(self, record_key: str) -> bool:
        """True when the live-looking record of this name is of a process on this host that is gone
        (a SIGKILLed worker restarted at once): its leases are recovered as any lost worker's."""
        host, pid = self.client.hmget(record_key, ["host", "pid"])
        text = str(pid or "")
        if host != socket.gethostname() or not text.isdigit():
            return False
        return int(text) != os.getpid() and not alive(int(text))

    def beat(
        self, now: float, state: str, current: Sequence[tuple[int, str]], done: int, failed: int
    ) -> None:
        """Renew leases and the record, recover expired leases, promote due jobs, drop dead workers."""
        by_queue: dict[int, list[str]] = {}
        for qi, job_id in current:
            by_queue.setdefault(qi, []).append(job_id)
        for qi, ids in by_queue.items():
            lifecycle.renew_leases(self.queues[qi], ids, now=now)
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(k.worker(self.name), mapping={
            "state": state, "current_jobs": dumps([i for _, i in current], "ids"), "jobs_done": done,
            "jobs_failed": failed, "last_heartbeat": repr(now),
        })  # fmt: skip
        pipe.expire(k.worker(self.name), self.record_ttl)
        pipe.zadd(k.workers, {self.name: now})
        pipe.zrangebyscore(k.workers, "-inf", f"({live_since(self.config, now)}")
        try:
            added, *_, dead = pipe.execute()
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            # writes refused: keep at least this worker's liveness (the job leases were renewed)
            from scheduler_core.broker.scripts import scripts_for  # noqa: PLC0415  # rare path

            scripts_for(self.client).rescore(keys=[k.workers], args=[repr(now), self.name])
            raise out_of_memory() from None
        if added and self.identity:
            # the record was gone: taken for dead by another worker while this one could not
            # reach the broker (e.g. through a failover): write the rest of it again
            self.client.hset(k.worker(self.name), mapping=self.identity)
            log.warning("worker %s: its record was gone (taken for dead while out of reach): "
                        "registered again", self.name, extra={"worker": self.name})  # fmt: skip
        if dead:
            pipe = self.client.pipeline(transaction=False)
            for name in dead:
                pipe.zrem(k.workers, name)
                pipe.delete(k.worker(name))
            pipe.execute()
            log.info("removed the records of dead workers: %s", ", ".join(dead), extra={"workers": dead})
        for q in self.queues:
            for job_id, outcome in lifecycle.reap(q, now=now):
                log.warning("job %s: its worker was lost (lease expired): %s", job_id, outcome,
                            extra={"job_id": job_id, "queue": q.name, "outcome": outcome})  # fmt: skip
            # occurrences missed during downtime are the scheduler's: it applies their misfire policy
            grace = self.config.misfire_grace
            if self.server_clock:  # the broker's time when the script runs: `now` may be stale by then
                q.promote_due(hold_late_by=grace)
            else:
                q.promote_due(now=now, hold_tasks_before=now - grace)
            # ids of expired records leave the terminal registries on this timer too, not only when
            # another job ends there (a quiet queue would keep them all)
            q.prune(now=now)

    def unregister(self) -> None:
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        pipe.zrem(k.workers, self.name)
        pipe.delete(k.worker(self.name))
        pipe.execute()


def worker_record(h: dict[str, Any], score: float | None) -> dict[str, Any]:
    """A worker hash as `control.list_workers` returns it (times as aware UTC datetimes)."""

    def ts(value: Any) -> datetime | None:
        return datetime.fromtimestamp(float(value), UTC) if value not in (None, "") else None

    def num(value: Any) -> int:
        return int(value) if value not in (None, "") else 0

    queues = h.get("queues") or "[]"
    return {
        "name": h.get("name", ""),
        "host": h.get("host", ""),
        "pid": num(h.get("pid")),
        "queues": loads(queues) if queues.startswith("[") else [q for q in queues.split(",") if q],
        "state": h.get("state", "idle"),
        "current_jobs": loads(h.get("current_jobs") or "[]"),
        "jobs_done": num(h.get("jobs_done")),
        "jobs_failed": num(h.get("jobs_failed")),
        "started_at": ts(h.get("started_at")),
        "last_heartbeat": ts(score if score is not None else h.get("last_heartbeat")),
    }
