"""The scheduler pass and loop.

A pass (`Scheduler.run_once(now=...)`, clock injected):
1. leader check: renew the lock, or try to take it; a standby stops here;
2. broker-loss check (recovery.py): a broker without the marker is refilled from the DB;
3. plan (planner.py): tasks due within the look-ahead -> scheduled jobs, next_run_at advanced;
4. promote due scheduled jobs to queued, on every queue;
5. reap expired job leases (lost workers), on every queue;
6. return when the next pass is due: the earliest of the next scheduled job, the next task to plan
   (its next_run_at less the look-ahead) and SCHEDULER_INTERVAL.

`run_forever` sleeps exactly until then (renewing the lock every third of its lease), and wakes
at once when `replan.tasks_changed` publishes on the wake channel.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from scheduler_core.conf import SchedulerConfig, get_config
from scheduler_core.errors import (
    BrokerOutOfMemory,
    BrokerUnavailable,
    DatabaseUnavailable,
    TaskctlError,
    from_service_error,
)
from scheduler_core.scheduler.leader import Leader
from scheduler_core.worker.logs import flush as flush_logs

log = logging.getLogger("taskctl.scheduler")


@dataclass
class PassResult:
    leader: bool
    wake_at: float  # epoch seconds when the next pass is due
    recovered: int = 0  # jobs re-planned after a broker loss
    tasks: int = 0  # due tasks planned
    planned: int = 0  # jobs handed to the broker
    skipped: int = 0  # occurrences skipped (misfire / overlap)
    promoted: int = 0  # scheduled -> queued
    reaped: int = 0  # expired leases recovered
    deferred_runs: int = 0  # task runs recorded late (kept during a database outage)
    seconds: float = 0.0  # wall time of the pass

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Scheduler:
    def __init__(self, config: SchedulerConfig | None = None) -> None:
        from scheduler_core.broker.connection import get_client
        from scheduler_core.broker.keys import GlobalKeys

        self.config = config or get_config()
        self.client = get_client(self.config.broker_url, self.config.connect_timeout)
        self.keys = GlobalKeys(self.config.key_prefix)
        self.leader = Leader(self.client, self.keys.scheduler_lock, self.config.scheduler_lock_ttl)
        self.next_pass: float | None = None  # when its last pass planned the next one (epoch s)

    def run_once(self, now: datetime | None = None) -> PassResult:
        """One pass; broker / DB outages raise BrokerUnavailable / DatabaseUnavailable (exit 69)."""
        try:
            return self._pass(now or datetime.now(UTC), live=now is None)
        except TaskctlError:
            raise
        except Exception as exc:
            mapped = from_service_error(exc)
            if mapped is None:
                raise
            raise mapped from exc

    def _pass(self, now: datetime, live: bool = False) -> PassResult:
        from scheduler_core.queues.lifecycle import reap
        from scheduler_core.queues.queue import all_queues
        from scheduler_core.scheduler.missed import drop_missed
        from scheduler_core.scheduler.planner import plan_due
        from scheduler_core.scheduler.recovery import lost_queues, mark, recover
        from scheduler_core.scheduler.stale import drop_stale
        from scheduler_core.tasks.runs import apply_deferred

        started = time.perf_counter()
        ts = now.timestamp()
        if not self.leader.ensure():
            return PassResult(leader=False, wake_at=ts + self.leader.poll_interval)
        config = self.config
        result = PassResult(leader=True, wake_at=ts + config.scheduler_interval)
        result.deferred_runs = apply_deferred()  # task runs kept while the database was down
        for url, names in lost_queues(config).items():
            result.recovered += recover(names, now, config)
            mark(config, url, now)
        queues = all_queues()
        if self.next_pass is None or ts - self.next_pass > config.misfire_grace:
            # back from downtime (or newly leading), i.e. this pass is more than the grace later
            # than planned: missed occurrences first, before the planner and any promotion see
            # them; a scheduler that kept up promoted everything on time
            drop_missed(queues, now, config)
        outcome = plan_due(now, config)
        result.tasks, result.planned, result.skipped = outcome.tasks, outcome.jobs, outcome.skipped
        drop_stale(queues, ts)  # rows changed past the ORM's signals: never promote their jobs
        for q in queues:
            if live:
                # at the broker's clock when the script runs. A pass that stalled for more than the
                # grace (a paused broker) holds the occurrences that became late only meanwhile (due
                # since ts - grace), and the next pass, late by as much, applies their misfire
                # policy (drop_missed) first; older ones were judged by this pass (drop_missed, or
                # planned late on purpose). A pass that was merely slow holds nothing.
                grace = config.misfire_grace
                result.promoted += q.promote_due(hold_late_by=grace, hold_from=ts - grace)
            else:
                result.promoted += q.promote_due(now=ts)
            result.reaped += len(reap(q, now=ts))
        result.wake_at = min(result.wake_at, self._next_wake(now, outcome.wake_at, outcome.more, queues))
        result.seconds = time.perf_counter() - started
        self.next_pass = result.wake_at
        return result

    def _next_wake(self, now: datetime, hint: datetime | None, more: bool, queues: list[Any]) -> float:
        from scheduler_core.models import Task

        if more:
            return now.timestamp()
        lookahead = timedelta(seconds=self.config.lookahead)
        candidates: list[float] = []
        if hint is not None:
            candidates.append(hint.timestamp())
        first = (
            Task.objects.filter(enabled=True, next_run_at__gt=now + lookahead)
            .order_by("next_run_at")
            .values_list("next_run_at", flat=True)
            .first()
        )
        if first is not None:
            candidates.append((first - lookahead).timestamp())
        pipe = self.client.pipeline(transaction=False)
        same_broker = [q for q in queues if q.broker_url == self.config.broker_url]
        for q in same_broker:
            pipe.zrange(q.keys.scheduled, 0, 0, withscores=True)
        for top in pipe.execute():
            if top:
                candidates.append(float(top[0][1]))
        for q in queues:
            if q.broker_url != self.config.broker_url:
                due = q.next_due()
                if due is not None:
                    candidates.append(due)
        return min(candidates) if candidates else now.timestamp() + self.config.scheduler_interval


class _Stop(Exception):
    pass


class Runner:
    """`run_forever`: the loop, its sleep, the wake channel and a clean stop on SIGTERM / SIGINT."""

    def __init__(self, scheduler: Scheduler | None = None) -> None:
        self.scheduler = scheduler or Scheduler()
        self.stopping = False
        self.sleeping = False
        self.pubsub: Any = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        if self.sleeping:
            raise _Stop()

    def _subscribe(self) -> None:
        try:
            from scheduler_core.broker.channels import Subscription

            self.pubsub = Subscription(self.scheduler.client, self.scheduler.keys.scheduler_wake)
        except Exception as exc:
            log.debug("wake channel unavailable: %s", exc)
            self.pubsub = None

    def _sleep(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when a wake-up message cut it short."""
        if seconds <= 0 or self.stopping:
            return False
        self.sleeping = True
        try:
            if self.pubsub is None:
                self._subscribe()
            if self.pubsub is None:
                time.sleep(seconds)
                return False
            try:
                msg = self.pubsub.get(timeout=seconds)
                woke = msg is not None
                while msg is not None:  # several edits at once: one pass
                    msg = self.pubsub.get(timeout=0)
                return woke
            except Exception as exc:
                log.debug("wake channel lost: %s", exc)
                self.pubsub = None
                time.sleep(min(seconds, 1.0))
                return False
        finally:
            self.sleeping = False

    def run(self, install_signals: bool = True) -> None:
        from django.db import close_old_connections

        if install_signals:
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        sched = self.scheduler
        self._subscribe()
        log.info(
            "scheduler started (lock %s, lease %gs)",
            sched.keys.scheduler_lock,
            sched.config.scheduler_lock_ttl,
        )
        was_leader = False
        trouble, failures = "", 0  # the fault being ridden out, and how many passes it failed
        try:
            while not self.stopping:
                close_old_connections()
                try:
                    result = sched.run_once()
                    wake_at = result.wake_at
                    if result.leader != was_leader:
                        log.info("this scheduler is now %s", "the leader" if result.leader else "a standby")
                        was_leader = result.leader
                    if result.leader and (result.planned or result.recovered or result.promoted):
                        log.debug("pass: %s", result.as_dict())
                except (BrokerUnavailable, DatabaseUnavailable) as exc:
                    failures += 1
                    if type(exc).__name__ != trouble:
                        log.warning("scheduler pass failed: %s; retrying (logged again when this changes)",
                                    exc, extra={"fault": type(exc).__name__})  # fmt: skip
                        trouble = type(exc).__name__
                    if not isinstance(exc, (BrokerOutOfMemory, DatabaseUnavailable)):
                        # a full broker still renews the lock (PEXPIRE uses no memory), a database
                        # outage leaves it alone: keep it (renewal checks the token), so that no
                        # other scheduler takes over only to hit the same wall
                        sched.leader.is_leader = False
                    close_old_connections()
                    wake_at = time.time() + min(0.25 * 2 ** min(failures, 5), 5.0)
                else:
                    if trouble:
                        log.warning("scheduler passes work again after %d failed (%s)", failures, trouble)
                    trouble, failures = "", 0
                flush_logs()  # a quiet scheduler's log is complete before it sleeps
                self._sleep_until(wake_at)
        except _Stop:
            pass
        finally:
            with contextlib.suppress(Exception):  # the broker may be gone; the lease runs out by itself
                sched.leader.release()
            if self.pubsub is not None:
                with contextlib.suppress(Exception):
                    self.pubsub.close()
            log.info("scheduler stopped")

    def _sleep_until(self, wake_at: float) -> None:
        """Sleep until `wake_at` or a wake-up, renewing the lock every third of its lease."""
        leader = self.scheduler.leader
        while not self.stopping:
            now = time.time()
            if now >= wake_at:
                return
            if self._sleep(min(wake_at - now, leader.poll_interval)) or time.time() >= wake_at:
                return
            if not leader.is_leader:
                return  # a standby tries the lock with a (short) full pass
            try:
                if not leader.ensure():
                    return
            except Exception:
                return


def run_forever(install_signals: bool = True) -> None:
    """Run the scheduler loop until SIGTERM / SIGINT (the `scheduler start` command)."""
    Runner().run(install_signals=install_signals)


_schedulers: dict[int, Scheduler] = {}


def run_once(now: datetime | None = None) -> PassResult:
    """One pass with this process's scheduler (one lock holder per process and configuration)."""
    config = get_config()
    sched = _schedulers.get(id(config))
    if sched is None:
        sched = _schedulers[id(config)] = Scheduler(config)
    return sched.run_once(now=now)
