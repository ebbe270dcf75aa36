"""The broker's key layout: the one place that names Redis keys.

Every per-queue key carries the queue name as a Redis Cluster hash tag (`{default}`), so each
multi-key Lua script touches one slot:

    <prefix>:{<queue>}:scheduled   ZSET  job id -> due time (epoch seconds)
    <prefix>:{<queue>}:queued      LIST  job ids; workers pop from the left, at_front pushes left
    <prefix>:{<queue>}:active      ZSET  job id -> lease deadline (renewed by heartbeats)
    <prefix>:{<queue>}:finished    ZSET  job id -> expiry time (+inf: kept forever)
    <prefix>:{<queue>}:failed      ZSET  job id -> expiry time
    <prefix>:{<queue>}:canceled    ZSET  job id -> expiry time
    <prefix>:{<queue>}:job:<id>    HASH  the job record (scheduler_core.jobs.record)
    <prefix>:{<queue>}:done:<id>   LIST  the terminal status, pushed once per waiter when a job
                                   with waiters (its `waiters` field, set by Job.wait) ends; a
                                   short TTL (DONE_TTL) drops tokens nobody took
    <prefix>:{<queue>}:signal      LIST  wake-up tokens for idle workers (bounded to 1,000; emptied
                                   when a claim finds the queue empty). Workers block on BLPOP
                                   over the signal lists of all their queues, then claim with a
                                   script, so a job moves queued -> active in one atomic step.
    <prefix>:{<queue>}:stats       HASH  counters since the queue's first job, never expired:
                                   `<outcome>:<bound>` runs that ended so, by the duration
                                   bucket they fell in (non-cumulative; finished failed stopped),
                                   `<outcome>` the same without a duration (retried lost),
                                   `duration_us` the runs' total duration in microseconds.
                                   Written by finish / retry / reap in the script of the move they
                                   count; read by scheduler_core.metrics.

Cross-queue keys all carry the prefix as their hash tag, so they share one slot of their own
(a worker's registration touches its record and the workers ZSET in one MULTI; `queues show`
reads both in one script), and none is used in a script together with per-queue keys:

    <prefix>:{<prefix>}:workers          ZSET  worker name -> last heartbeat
    <prefix>:{<prefix>}:worker:<name>    HASH  the worker record
    <prefix>:{<prefix>}:commands         pub/sub channel for worker commands (sharded on Cluster)
    <prefix>:{<prefix>}:scheduler:lock   STRING the leader scheduler's token, with a TTL
    <prefix>:{<prefix>}:scheduler:wake   pub/sub channel: a task changed, plan now
    <prefix>:{<prefix>}:scheduler:epoch  STRING on each broker: set once the scheduler planned it
                                         (a broker without it lost its data: the DB refills it)
    <prefix>:{<prefix>}:scheduler:reach  ZSET  "reach" -> how far ahead the scheduler has planned
    <prefix>:{<prefix>}:tasks:pending-runs  LIST  JSON task runs the database refused to record;
                                         the scheduler applies them when it answers again
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

REGISTRIES: tuple[str, ...] = ("scheduled", "queued", "active", "finished", "failed", "canceled")
TERMINAL: tuple[str, ...] = ("finished", "failed", "canceled")
DONE_TTL = 60  # seconds a job's done tokens wait for its waiters (finish.lua, reap.lua, cancel.lua)


@dataclass(frozen=True)
class QueueKeys:
    prefix: str
    queue: str

    @cached_property
    def base(self) -> str:
        return f"{self.prefix}:{{{self.queue}}}"

    @cached_property
    def job_prefix(self) -> str:
        return f"{self.base}:job:"

    def job(self, job_id: str) -> str:
        return self.job_prefix + job_id

    @cached_property
    def done_prefix(self) -> str:
        return f"{self.base}:done:"

    def done(self, job_id: str) -> str:
        return self.done_prefix + job_id

    def registry(self, name: str) -> str:
        return f"{self.base}:{name}"

    @cached_property
    def signal(self) -> str:
        return f"{self.base}:signal"

    @cached_property
    def stats(self) -> str:
        return f"{self.base}:stats"

    @cached_property
    def scheduled(self) -> str:
        return self.registry("scheduled")

    @cached_property
    def queued(self) -> str:
        return self.registry("queued")

    @cached_property
    def active(self) -> str:
        return self.registry("active")

    @cached_property
    def finished(self) -> str:
        return self.registry("finished")

    @cached_property
    def failed(self) -> str:
        return self.registry("failed")

    @cached_property
    def canceled(self) -> str:
        return self.registry("canceled")

    def count_commands(self, now: float) -> list[tuple[str, ...]]:
        """The six registry sizes as commands, in REGISTRIES order: terminal entries whose
        expiry is past are not counted (their records are gone; `prune` drops them later)."""
        return [
            ("ZCARD", self.scheduled),
            ("LLEN", self.queued),
            ("ZCARD", self.active),
            *(("ZCOUNT", self.registry(name), f"({now!r}", "+inf") for name in TERMINAL),
        ]


@dataclass(frozen=True)
class GlobalKeys:
    prefix: str

    @cached_property
    def base(self) -> str:
        return f"{self.prefix}:{{{self.prefix}}}"

    @property
    def workers(self) -> str:
        return f"{self.base}:workers"

    @property
    def worker_prefix(self) -> str:
        return f"{self.base}:worker:"

    def worker(self, name: str) -> str:
        return self.worker_prefix + name

    @property
    def commands(self) -> str:
        return f"{self.base}:commands"

    @property
    def scheduler_lock(self) -> str:
        return f"{self.base}:scheduler:lock"

    @property
    def scheduler_wake(self) -> str:
        return f"{self.base}:scheduler:wake"

    @property
    def scheduler_epoch(self) -> str:
        return f"{self.base}:scheduler:epoch"

    @property
    def scheduler_reach(self) -> str:
        return f"{self.base}:scheduler:reach"

    @property
    def pending_runs(self) -> str:
        """LIST of task runs whose bookkeeping the database refused (runs.py); the scheduler
        applies them once the database answers."""
        return f"{self.base}:tasks:pending-runs"
