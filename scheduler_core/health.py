"""`taskctl health`: is the system able to run jobs? A list of checks, each passed or failed.

Checks (each can be skipped by name):
- broker:    every selected queue's broker answers;
- database:  the database answers and has taskctl's tables;
- scheduler: a scheduler holds the leader lock (on the main broker);
- workers:   every selected queue has a live worker that takes jobs (idle or busy; suspended
             and stopping ones do not count);
- oldest_queued (only with a limit): no selected queue's oldest queued job is older than it;
- worker (only for the names given): that worker is live (its heartbeat is fresh), whatever its
  state: a Kubernetes liveness probe of one worker pod asks this, and a suspended worker is fine.

An unreachable broker or database is a failed check, not an error: the answer to "is it healthy"
is then "no". Every check is bounded in time (the broker's replies by CONNECT_TIMEOUT, the
database check by a thread given twice that), so a probe never hangs.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scheduler_core.conf import SchedulerConfig, get_config
from scheduler_core.errors import InvalidInput

CHECKS: tuple[str, ...] = ("broker", "database", "scheduler", "workers", "oldest_queued", "worker")
TAKING_JOBS = ("idle", "busy")  # worker states that will run a queued job


@dataclass
class Check:
    name: str  # one of CHECKS
    target: str  # the queue (the worker, for `worker`) checked, or "" for the whole system
    ok: bool
    detail: str

    def line(self) -> str:
        """One line for people: `workers: queue "default": no live worker`."""
        kind = "worker" if self.name == "worker" else "queue"
        where = f'{kind} "{self.target}": ' if self.target else ""
        return f"{self.name}: {where}{self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_checks(
    queues: Sequence[str] = (),
    *,
    max_oldest_queued: float | None = None,
    workers: Sequence[str] = (),
    skip: Sequence[str] = (),
    now: float | None = None,
    config: SchedulerConfig | None = None,
) -> list[Check]:
    """Every check, in CHECKS order. An unknown queue (exit 3) or check name (exit 3) is refused
    before anything is read."""
    from scheduler_core.metrics.reading import read

    cfg = config or get_config()
    unknown = sorted(set(skip) - set(CHECKS))
    if unknown:
        raise InvalidInput(f"unknown check(s) {', '.join(unknown)} (one of: {', '.join(CHECKS)})")
    reading = read(cfg, queues, now=now)  # UnknownQueue before anything is read
    checks: list[Check] = []
    if "broker" not in skip:
        for q in reading.queues:
            detail = "answers" if q.up else f"broker {q.broker} unreachable: {q.error}"
            checks.append(Check("broker", q.name, q.up, detail))
    if "database" not in skip:
        checks.append(database_check(cfg.connect_timeout * 2))
    if "scheduler" not in skip:
        if not reading.workers_up:
            checks.append(
                Check("scheduler", "", False, f"unknown: main broker unreachable: {reading.workers_error}")
            )
        elif reading.leader is None:
            checks.append(Check("scheduler", "", False, "no scheduler holds the leader lock"))
        else:
            host, _, rest = reading.leader.partition(":")
            pid = rest.partition(":")[0]
            checks.append(
                Check("scheduler", "", True, f"leader on {host} (pid {pid})" if pid else "a leader")
            )
    if "workers" not in skip:
        for q in reading.queues:
            if not reading.workers_up:
                checks.append(Check("workers", q.name, False, "unknown: main broker unreachable"))
                continue
            states: Counter[str] = reading.workers.get(q.name) or Counter()
            live = sum(states.get(s, 0) for s in TAKING_JOBS)
            others = ", ".join(f"{n} {s}" for s, n in sorted(states.items()) if s not in TAKING_JOBS and n)
            if live:
                checks.append(Check("workers", q.name, True, f"{live} live worker{'s' if live > 1 else ''}"))
            else:
                checks.append(
                    Check("workers", q.name, False, "no live worker" + (f" ({others})" if others else ""))
                )
    if max_oldest_queued is not None and "oldest_queued" not in skip:
        for q in reading.queues:
            if not q.up:
                continue  # the broker check says why
            ok = q.oldest_queued <= max_oldest_queued
            detail = f"oldest queued job waited {q.oldest_queued:g}s (limit {max_oldest_queued:g}s)"
            checks.append(Check("oldest_queued", q.name, ok, detail))
    if "worker" not in skip:
        for name in dict.fromkeys(workers):
            if not reading.workers_up:
                checks.append(
                    Check("worker", name, False, f"unknown: main broker unreachable: {reading.workers_error}")
                )
            elif name in reading.live:
                checks.append(Check("worker", name, True, f"live ({reading.live[name]})"))
            else:
                checks.append(Check("worker", name, False, "not running (no fresh heartbeat)"))
    return checks


def database_check(timeout: float) -> Check:
    """SELECT from taskctl's table, in a thread given `timeout` seconds: a database that does not
    answer (a connect that hangs) fails the check instead of hanging the probe."""
    result: list[Check] = []

    def probe() -> None:
        from django.db import connection

        try:
            from scheduler_core.models import Task

            Task.objects.exists()
            result.append(Check("database", "", True, "answers"))
        except Exception as exc:
            result.append(Check("database", "", False, _why(exc)))
        finally:
            connection.close()  # this thread's connection

    t = threading.Thread(target=probe, name="taskctl-health-db", daemon=True)
    t.start()
    t.join(timeout)
    if not result:
        return Check("database", "", False, f"no answer within {timeout:g}s")
    return result[0]


def _why(exc: BaseException) -> str:
    from scheduler_core.errors import from_service_error

    mapped = from_service_error(exc)
    if mapped is not None:
        return str(mapped)
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
