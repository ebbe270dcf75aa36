"""Queue: enqueue jobs and read or change the six registries. Every move is one atomic Lua call.

Worker-side moves (claim, complete, retry, reap) live in scheduler_core.queues.lifecycle.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property, lru_cache
from typing import TYPE_CHECKING, Any, cast

from scheduler_core.broker.keys import REGISTRIES, TERMINAL, QueueKeys
from scheduler_core.broker.scripts import queue_call
from scheduler_core.broker.translate import broker_error, raises_broker_unavailable
from scheduler_core.callables import dotted_path, resolve
from scheduler_core.conf import SchedulerConfig, get_config
from scheduler_core.errors import (
    OOM_HINT,
    BrokerOutOfMemory,
    EnqueueIncomplete,
    InvalidInput,
    NotFound,
    NotSerializable,
    UsageError,
    is_out_of_memory,
)
from scheduler_core.gcpause import gc_paused
from scheduler_core.jobs.record import Job, JobStatus, Retry, dumps

if TYPE_CHECKING:
    import redis

    from scheduler_core.broker.scripts import Scripts
    from scheduler_core.worker.running import Callables

_BATCH = 500  # jobs per script call
_BATCHES_PER_ROUND_TRIP = 10


@dataclass
class JobCall:
    """One job to enqueue: what to call and how (used by enqueue_many and the scheduler)."""

    func: Callable[..., Any] | str
    args: Sequence[Any] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    at: datetime | float | None = None  # a datetime or epoch seconds; None = now
    timeout: int | None = None
    result_ttl: int | None = None
    failure_ttl: int | None = None
    at_front: bool = False
    retry: Retry | None = None
    on_success: str = ""
    on_failure: str = ""
    on_stopped: str = ""
    meta: dict[str, Any] | None = None
    task_id: int | None = None
    occurrence: datetime | None = None


class _Argv(list[Any]):
    """The enqueue script's arguments for one batch (see enqueue.lua): consecutive jobs with the
    same mode, time, failure ttl and retries share one group header, so a bulk enqueue sends two
    arguments per job instead of six (less to pack in Python and to parse in Redis)."""

    def __init__(self, job_prefix: str) -> None:
        super().__init__((job_prefix,))
        self.head: tuple[str, float, int, int | str] | None = None
        self.count_at = 0

    def add(self, head: tuple[str, float, int, int | str], job_id: str, spec: bytes) -> None:
        if head != self.head:
            self.head = head
            self.count_at = len(self)
            mode, due, failure_ttl, retries = head
            self += [0, mode, repr(due), failure_ttl, retries]
        self[self.count_at] += 1
        self += [job_id, spec]


def _specs(argv: _Argv) -> list[bytes]:
    """The encoded specs of a batch, in order (each follows its id; group headers are skipped)."""
    out: list[bytes] = []
    i = 1
    while i < len(argv):
        count = argv[i]
        out += argv[i + 6 : i + 5 + 2 * count + 1 : 2]
        i += 5 + 2 * count
    return out


_this_thread = threading.local()  # .db: {alias: Django's connection wrapper of this thread}


def _in_atomic(using: str | None) -> bool:
    """Whether the caller is inside transaction.atomic() on `using` (False where Django has no
    settings: the CLI's broker-only commands). It is on every enqueue: Django's wrapper of each
    alias is looked up once per thread (`connections[alias]` costs ~2 us; Django keeps one
    wrapper per thread and alias for the thread's life), then its flag is read."""
    alias = using or "default"
    try:
        return bool(_this_thread.db[alias].in_atomic_block)
    except (AttributeError, KeyError):
        pass
    from django.conf import settings

    if not settings.configured:
        return False
    from django.db import connections

    if not hasattr(_this_thread, "db"):
        _this_thread.db = {}
    conn = _this_thread.db[alias] = connections[alias]
    return bool(conn.in_atomic_block)


def _epoch(value: datetime | float) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput(f"time {value.isoformat()} has no timezone")
        return value.timestamp()
    return float(value)


class Queue:
    def __init__(self, name: str, broker_url: str, config: SchedulerConfig) -> None:
        self.name = name
        self.broker_url = broker_url
        self.config = config
        self.keys = QueueKeys(config.key_prefix, name)

    def __repr__(self) -> str:
        return f"Queue({self.name!r})"

    @cached_property
    def connection(self) -> redis.Redis:
        from scheduler_core.broker.connection import get_client

        return get_client(self.broker_url, self.config.connect_timeout)

    @property
    def scripts(self) -> Scripts:
        from scheduler_core.broker.scripts import scripts_for

        return scripts_for(self.connection)

    @cached_property
    def callables(self) -> Callables:
        """Resolved callables for jobs run in this process (eager mode, testing.drain)."""
        from scheduler_core.worker.running import Callables

        return Callables(self.config.allowed_callables)

    # ----- enqueue -----
    def enqueue(self, func: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> Job:
        """Enqueue `func(*args, **kwargs)` now. Options: use `enqueue_call`."""
        return self.enqueue_call(JobCall(func, args, kwargs))

    def enqueue_at(self, when: datetime, func: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> Job:
        return self.enqueue_call(JobCall(func, args, kwargs, at=when))

    def enqueue_in(
        self, delay: timedelta | float, func: Callable[..., Any] | str, *args: Any, **kwargs: Any
    ) -> Job:
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        return self.enqueue_call(JobCall(func, args, kwargs, at=time.time() + seconds))

    def enqueue_call(
        self,
        call: JobCall,
        *,
        now: float | None = None,
        on_commit: bool | None = None,
        using: str | None = None,
    ) -> Job:
        """Enqueue one job in one round trip; returns it (an existing id is left alone: idempotent).

        Inside `transaction.atomic(using=using)` it reaches the broker when the outermost block
        commits, never after a rollback (`on_commit`: None = SCHEDULER["ENQUEUE_ON_COMMIT"]);
        the Job has its id at once. With SCHEDULER["EAGER"] the job runs here instead."""
        k = self.keys
        argv = _Argv(k.job_prefix)
        job = self._prepare(call, time.time() if now is None else now, argv)
        cfg = self.config
        if cfg.eager or ((cfg.enqueue_on_commit if on_commit is None else on_commit) and _in_atomic(using)):
            self._dispatch([job], [argv], on_commit, using, cfg.eager)
            return job
        # Straight EVALSHA: a pipeline would add a SCRIPT EXISTS round trip to every call.
        try:
            self.scripts.enqueue(keys=[k.queued, k.scheduled, k.signal], args=argv)
        except Exception as exc:  # here, not in a decorator: a wrapper costs ~1 us a call
            err = broker_error(exc, self.broker_url)  # out of memory, or unreachable
            if err is None:
                raise
            raise err from (None if isinstance(err, BrokerOutOfMemory) else exc)
        return job

    @raises_broker_unavailable
    def enqueue_many(
        self,
        calls: Iterable[JobCall],
        *,
        now: float | None = None,
        on_commit: bool | None = None,
        using: str | None = None,
        eager: bool | None = None,
    ) -> list[Job]:
        """Enqueue many jobs: one script call per 500 jobs, pipelined 10 calls a round trip.

        Every call is validated and encoded before anything is sent, so a bad one (not JSON, not
        a dotted path, not allowed) writes nothing. Each round trip is then sent from a helper
        thread while the next one is packed, so Redis works while Python packs. On commit and
        eager as `enqueue_call` (on commit: all of them in the one deferred send); the scheduler
        passes `on_commit=False, eager=False`: its jobs go to the broker, now.

        A broker at its memory limit refuses whole batches (a script that has not written yet is
        refused; one that has, completes): the first refusal stops the sending and raises
        EnqueueIncomplete, which carries the ids of the jobs that were written."""
        t = time.time() if now is None else now
        k = self.keys
        jobs: list[Job] = []
        batches: list[_Argv] = []
        argv = _Argv(k.job_prefix)
        cfg = self.config
        with gc_paused():  # packing makes a few objects per job, all outliving the call
            for call in calls:
                jobs.append(self._prepare(call, t, argv))
                if len(jobs) % _BATCH == 0:
                    batches.append(argv)
                    argv = _Argv(k.job_prefix)
            if len(argv) > 1:
                batches.append(argv)
            run_here = cfg.eager if eager is None else eager
            if run_here or (
                (cfg.enqueue_on_commit if on_commit is None else on_commit) and _in_atomic(using)
            ):
                self._dispatch(jobs, batches, on_commit, using, run_here)
            else:
                self._send_all(jobs, batches)
        return jobs

    def _send_all(self, jobs: list[Job], batches: list[_Argv]) -> None:
        refused = self._send(batches)
        if refused is not None:
            ok_jobs = (jobs[b * _BATCH : (b + 1) * _BATCH] for b, ok in enumerate(refused) if ok)
            written = [j.id for batch in ok_jobs for j in batch]
            raise EnqueueIncomplete(
                f"broker out of memory: {len(written)} of {len(jobs)} jobs were enqueued (their ids "
                f"are on the error), the others were not written ({OOM_HINT})",
                written,
                len(jobs),
            )

    def _dispatch(
        self, jobs: list[Job], batches: list[_Argv], on_commit: bool | None, using: str | None, eager: bool
    ) -> None:
        """Off the fast path: run the jobs here (EAGER) and/or wait for the transaction's commit."""
        cfg = self.config

        def deliver() -> None:
            if eager:
                from scheduler_core.jobs.eager import run_eager

                specs = [spec for batch in batches for spec in _specs(batch)]
                for job, spec in zip(jobs, specs, strict=True):
                    run_eager(self, job, spec)
                return
            self._send_all(jobs, batches)
            for job in jobs:
                job.delivery = ""

        if (cfg.enqueue_on_commit if on_commit is None else on_commit) and _in_atomic(using):
            from django.db import transaction

            for job in jobs:
                job.delivery = "on_commit"
            # not robust: a broker error at commit reaches the caller (the rows are committed,
            # the jobs are not sent: the caller must know), as BrokerUnavailable
            transaction.on_commit(lambda: self._broker_errors(deliver), using=using)
            return
        deliver()

    def _broker_errors(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:
            err = broker_error(exc, self.broker_url)
            if err is None:
                raise
            raise err from exc

    def _send(self, batches: list[_Argv]) -> list[bool] | None:
        """Send the batches; None when all were written, else which ones were (after a refusal
        for lack of memory, nothing more is sent)."""
        k = self.keys
        keys = [k.queued, k.scheduled, k.signal]
        script = self.scripts.enqueue
        written: list[bool] = []
        in_flight: Future[list[Any]] | None = None
        for start in range(0, len(batches), _BATCHES_PER_ROUND_TRIP):
            pipe = self.connection.pipeline(transaction=False)
            for batch in batches[start : start + _BATCHES_PER_ROUND_TRIP]:
                queue_call(pipe, script, keys, batch)
            if in_flight is not None and not _check_batches(in_flight.result(), written):
                return written + [False] * (len(batches) - len(written))
            in_flight = _sender().submit(pipe.execute, raise_on_error=False)
        if in_flight is not None and not _check_batches(in_flight.result(), written):
            return written + [False] * (len(batches) - len(written))
        return None

    def _prepare(self, call: JobCall, now: float, argv: _Argv) -> Job:
        """Validate one call, append its script arguments to `argv`, and return its Job."""
        path = call.func if isinstance(call.func, str) else dotted_path(call.func)
        if "." not in path:
            raise InvalidInput(f"callable {path!r} is not a dotted path")
        if self.config.allowed_callables:  # the same check as validate and run time
            resolve(path, self.config.allowed_callables)
        due = now if call.at is None else _epoch(call.at)
        scheduled = due > now
        job_id = call.job_id or os.urandom(16).hex()
        cfg = self.config
        timeout = cfg.default_timeout if call.timeout is None else call.timeout
        result_ttl = cfg.default_result_ttl if call.result_ttl is None else call.result_ttl
        failure_ttl = cfg.default_failure_ttl if call.failure_ttl is None else call.failure_ttl
        args = list(call.args)
        kwargs = dict(call.kwargs)
        # The immutable part of the record is one JSON field: one encode per job, few script args.
        spec: dict[str, Any] = {
            "callable": path, "args": args, "kwargs": kwargs, "created_at": now,
            "timeout": timeout, "result_ttl": result_ttl,
        }  # fmt: skip
        if call.retry is not None and call.retry.max > 0:
            spec["backoff"] = list(call.retry.backoff)
        if call.on_success:
            spec["on_success"] = call.on_success
        if call.on_failure:
            spec["on_failure"] = call.on_failure
        if call.on_stopped:
            spec["on_stopped"] = call.on_stopped
        if call.meta:
            spec["meta"] = call.meta
        if call.task_id is not None:
            spec["task_id"] = call.task_id
        if call.occurrence is not None:
            spec["occurrence"] = call.occurrence.timestamp()
        mode = ("S" if call.at_front else "s") if scheduled else ("f" if call.at_front else "q")
        retries = call.retry.max if call.retry is not None and call.retry.max > 0 else ""
        try:
            encoded = dumps(spec, "job arguments")
        except NotSerializable:
            raise NotSerializable(_not_json(path, args, kwargs, call.meta)) from None
        argv.add((mode, due, failure_ttl, retries), job_id, encoded)
        return Job(
            id=job_id,
            queue=self.name,
            callable=path,
            args=args,
            kwargs=kwargs,
            status=JobStatus.SCHEDULED if scheduled else JobStatus.QUEUED,
            timeout=timeout,
            result_ttl=result_ttl,
            failure_ttl=failure_ttl,
            at_front=call.at_front and scheduled,  # the record keeps it only until promotion
            task_id=call.task_id,
            created_at=_utc(now),
            enqueued_at=None if scheduled else _utc(due),  # an `at` in the past is its enqueue time
            due_at=_utc(due) if scheduled else None,
            occurrence=call.occurrence,
            retries_left=retries if isinstance(retries, int) else 0,
            backoff=spec.get("backoff", []),
            on_success=call.on_success or "",
            on_failure=call.on_failure or "",
            on_stopped=call.on_stopped or "",
            meta=call.meta or {},
        )

    # ----- reading -----
    @raises_broker_unavailable
    def count(self, registry: str, *, now: float | None = None) -> int:
        return self.counts(now=now)[_check_registry(registry)]

    @raises_broker_unavailable
    def counts(self, *, now: float | None = None) -> dict[str, int]:
        """All six registry sizes in one round trip (expired terminal entries are not counted)."""
        pipe = self.connection.pipeline(transaction=False)
        self.add_counts(pipe, time.time() if now is None else now)
        return dict(zip(REGISTRIES, pipe.execute(), strict=True))

    def add_counts(self, pipe: Any, now: float) -> None:
        """Queue the six count commands on `pipe` (used to count several queues in one round trip)."""
        for command in self.keys.count_commands(now):
            pipe.execute_command(*command)

    @raises_broker_unavailable
    def job_ids(
        self, registry: str, *, offset: int = 0, limit: int = 50, now: float | None = None
    ) -> list[str]:
        """One page of ids, O(log n + page): queued in pick-up order, scheduled by due time, active
        by lease deadline, the terminal ones newest (latest expiry) first, expired entries left out."""
        registry = _check_registry(registry)
        key = self.keys.registry(registry)
        r = self.connection
        if registry == "queued":
            return cast("list[str]", r.lrange(key, offset, offset + limit - 1))
        if registry in ("scheduled", "active"):
            return cast("list[str]", r.zrange(key, offset, offset + limit - 1))
        t = time.time() if now is None else now
        return cast("list[str]", r.zrevrangebyscore(key, "+inf", f"({t}", start=offset, num=limit))

    @raises_broker_unavailable
    def jobs(self, registry: str, *, offset: int = 0, limit: int = 50) -> list[Job]:
        return self.fetch_many(self.job_ids(registry, offset=offset, limit=limit))

    @raises_broker_unavailable
    def fetch_many(self, ids: Sequence[str]) -> list[Job]:
        pipe = self.connection.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(self.keys.job(job_id))
        replies = pipe.execute(raise_on_error=False)
        return [self._job(i, h) for i, h in zip(ids, replies, strict=True) if h]

    @raises_broker_unavailable
    def fetch_job(self, job_id: str) -> Job | None:
        found = self.fetch_many([job_id])
        return found[0] if found else None

    def _job(self, job_id: str, reply: Any) -> Job:
        import redis

        if isinstance(reply, redis.ResponseError):  # WRONGTYPE: the key is not a hash at all
            return Job.corrupt_record(job_id, self.name, {}, f"the record is not a hash ({reply})")
        if isinstance(reply, Exception):
            raise reply
        return Job.from_fields(job_id, self.name, reply)

    @raises_broker_unavailable
    def ids_starting_with(self, prefix: str, *, most: int = 2) -> list[str]:
        """Up to `most` job ids that start with `prefix` (a SCAN of this queue's job keys: for an
        operator who typed a short id, never on a hot path). `prefix` must be glob-free."""
        start = self.keys.job_prefix
        found: list[str] = []
        for key in self.connection.scan_iter(match=f"{start}{prefix}*", count=1000):
            found.append(str(key)[len(start) :])
            if len(found) >= most:
                break
        return found

    @raises_broker_unavailable
    def registry_of(self, job_id: str) -> str | None:
        """Which registry holds `job_id` (None if none). A terminal entry past its expiry still
        counts until `prune` drops it (views show old jobs with injected clocks)."""
        k = self.keys
        pipe = self.connection.pipeline(transaction=False)
        pipe.zscore(k.scheduled, job_id)
        pipe.lpos(k.queued, job_id)
        pipe.zscore(k.active, job_id)
        for name in TERMINAL:
            pipe.zscore(k.registry(name), job_id)
        for name, hit in zip(REGISTRIES, pipe.execute(), strict=True):
            if hit is not None:
                return name
        return None

    # ----- one job's record: meta, waiting -----
    @raises_broker_unavailable
    def save_meta(self, job_id: str, meta: dict[str, Any]) -> bool:
        """Replace the record's meta (and nothing else); False when the record is gone."""
        encoded = dumps(meta, "job meta")
        return bool(self.scripts.meta(keys=[self.keys.job(job_id)], args=[encoded]))

    @raises_broker_unavailable
    def watch(self, job_id: str) -> str | None:
        """Count a waiter on the job and return its status (None: no record): the job's terminal
        move then pushes a token for this waiter (see `wait_done`)."""
        status = self.scripts.watch(keys=[self.keys.job(job_id)])
        return str(status) if status else None

    @raises_broker_unavailable
    def status_of(self, job_id: str) -> str | None:
        return cast("str | None", self.connection.hget(self.keys.job(job_id), "status"))

    @raises_broker_unavailable
    def wait_done(self, job_id: str, timeout: float) -> str | None:
        """Block up to `timeout` seconds for a watched job's done token: its terminal status."""
        got = self.connection.blpop([self.keys.done(job_id)], timeout=max(timeout, 0.01))
        return str(got[1]) if got else None

    # ----- operator moves -----
    def promote_due(
        self,
        *,
        now: float | None = None,
        limit: int = 1000,
        hold_tasks_before: float | None = None,
        hold_late_by: float | None = None,
        hold_from: float | None = None,
    ) -> int:
        """Move due scheduled jobs to queued, in batches of `limit`; returns how many moved.
        `now`: None reads the broker's clock inside the script, when it runs (see promote.lua).
        `hold_tasks_before` (or `hold_late_by` seconds before that clock): leave task occurrences
        due before then to the scheduler (missed runs: their misfire policy); with `hold_from`,
        only those due since then."""
        k = self.keys
        args: list[Any] = ["" if now is None else repr(now), limit, k.job_prefix]
        if hold_tasks_before is not None:
            args.append(repr(hold_tasks_before))
        elif hold_late_by is not None:
            args += ["", repr(hold_late_by)]
        if hold_from is not None:
            if len(args) == 3:
                args.append("")
            if len(args) == 4:
                args.append("")
            args.append(repr(hold_from))
        total = 0
        while True:
            moved, more = self.scripts.promote(keys=[k.scheduled, k.queued, k.signal], args=args)
            total += int(moved)
            if not int(more):
                return total

    def next_due(self) -> float | None:
        """Epoch seconds of the earliest scheduled job, or None."""
        first = self.connection.zrange(self.keys.scheduled, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    @raises_broker_unavailable
    def cancel(self, job_id: str, *, now: float | None = None) -> bool:
        """Cancel a queued or scheduled job; False when it is in neither."""
        k = self.keys
        t = time.time() if now is None else now
        ttl = self.config.default_failure_ttl  # used only when the record names no failure_ttl
        keys = [k.queued, k.scheduled, k.canceled, k.job(job_id), k.done(job_id)]
        done = self.scripts.cancel(keys=keys, args=[job_id, repr(t), ttl])
        return bool(done)

    @raises_broker_unavailable
    def requeue(self, job_id: str, *, now: float | None = None) -> bool:
        """Put a failed or canceled job back in queued."""
        k = self.keys
        t = time.time() if now is None else now
        keys = [k.failed, k.canceled, k.queued, k.job(job_id), k.signal]
        done = self.scripts.requeue(keys=keys, args=[job_id, repr(t)])
        return int(done) == 1

    @raises_broker_unavailable
    def requeue_all(self, registry: str = "failed", *, now: float | None = None) -> int:
        if registry not in ("failed", "canceled"):
            raise InvalidInput(f"only failed or canceled jobs can be requeued, not {registry!r}")
        k = self.keys
        t = time.time() if now is None else now
        n = 0
        while True:
            # every id read is removed from the registry by its script, so this loop ends
            ids = cast("list[str]", self.connection.zrange(k.registry(registry), 0, 499))
            if not ids:
                return n
            pipe = self.connection.pipeline(transaction=False)
            for i in ids:
                keys = [k.failed, k.canceled, k.queued, k.job(i), k.signal]
                queue_call(pipe, self.scripts.requeue, keys, [i, repr(t)])
            n += sum(1 for done in pipe.execute() if int(done) == 1)

    @raises_broker_unavailable
    def delete(self, job_id: str) -> bool:
        """Delete a job that is not running; UsageError for an active one."""
        k = self.keys
        keys = [k.registry(r) for r in REGISTRIES] + [k.job(job_id)]
        done = int(self.scripts.delete(keys=keys, args=[job_id]))
        if done == -1:
            raise UsageError(f"job {job_id} is running: stop it first (taskctl jobs stop {job_id})")
        return done == 1

    @raises_broker_unavailable
    def clear(self, registry: str) -> int:
        """Delete every job in a registry (not active: running jobs are stopped, not cleared)."""
        registry = _check_registry(registry)
        if registry == "active":
            raise InvalidInput("the active registry cannot be cleared: stop the jobs instead")
        key = self.keys.registry(registry)
        kind = "list" if registry == "queued" else "zset"
        n = 0
        while True:
            removed = int(self.scripts.clear(keys=[key], args=[kind, self.keys.job_prefix, 1000]))
            if not removed:
                return n
            n += removed

    def prune(self, *, now: float | None = None) -> int:
        """Drop expired entries from the terminal registries (their records expired by TTL)."""
        t = time.time() if now is None else now
        pipe = self.connection.pipeline(transaction=False)
        for name in TERMINAL:
            pipe.zremrangebyscore(self.keys.registry(name), "-inf", t)
        return int(sum(pipe.execute()))


def _check_batches(replies: list[Any], written: list[bool]) -> bool:
    """Append each batch's fate to `written`; False after a refusal for lack of memory. Any
    other error is raised as it is."""
    ok = True
    for reply in replies:
        if isinstance(reply, Exception):
            if not is_out_of_memory(reply):
                raise reply
            ok = False
        written.append(not isinstance(reply, Exception))
    return ok


@cache
def _sender_for(pid: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="taskctl-enqueue")


def _sender() -> ThreadPoolExecutor:
    """The helper thread that sends bulk-enqueue round trips, one per process: a forked child
    inherits the parent's executor without its thread, and a submit to it would never run."""
    return _sender_for(os.getpid())


def _not_json(path: str, args: list[Any], kwargs: dict[str, Any], meta: dict[str, Any] | None) -> str:
    """Name the first value of a call that JSON cannot carry (only on the error path)."""
    items: list[tuple[str, Any]] = [(f"argument {i + 1}", a) for i, a in enumerate(args)]
    items += [(f"keyword argument {name!r}", v) for name, v in kwargs.items()]
    items += [("meta", meta)]
    for label, value in items:
        try:
            dumps(value, label)
        except NotSerializable as exc:
            return f"{path}: {exc} (arguments must be JSON: str, int, float, bool, None, list, dict)"
    return f"{path}: job arguments must be JSON-serialisable"


def _check_registry(name: str) -> str:
    if name not in REGISTRIES:
        raise InvalidInput(f"unknown registry {name!r} (one of: {', '.join(REGISTRIES)})")
    return name


_queues: dict[str, Queue] = {}


def get_queue(name: str = "default") -> Queue:
    """The configured queue `name`; UnknownQueue (exit 3) when it is not in settings.

    One Queue per name, rebuilt when the config changed (override_settings in tests)."""
    config = get_config()
    q = _queues.get(name)
    if q is None or q.config is not config:
        qc = config.queue(name)
        q = _queues[name] = Queue(name, qc.broker_url, config)
    return q


def all_queues() -> list[Queue]:
    return [get_queue(name) for name in get_config().queues]


# A short id as the tables show it (git-style unique prefix): letters, digits, `-` and `_` only,
# so it is never a glob pattern.
_SHORT_ID = re.compile(r"^[A-Za-z0-9_-]{6,}$")


def find_job(job_id: str, queue: str | None = None) -> Job:
    """Find a job by id in `queue`, else in every configured queue (one pipeline per broker).
    An id that matches no job but is the unique prefix of one (as tables show ids) finds it."""
    candidates = [get_queue(queue)] if queue else all_queues()
    for q in candidates:
        job = q.fetch_job(job_id)
        if job is not None:
            return job
    where = f" in queue {queue!r}" if queue else ""
    if _SHORT_ID.match(job_id):
        matches = [(q, i) for q in candidates for i in q.ids_starting_with(job_id)]
        if len(matches) > 1:
            raise InvalidInput(f"job id {job_id!r} is ambiguous{where}: more than one job starts with it")
        if matches:
            q, full = matches[0]
            job = q.fetch_job(full)
            if job is not None:
                return job
    raise NotFound(f"job {job_id!r} not found{where}")


def unique_prefixes(ids: Sequence[str], *, shortest: int = 12) -> list[str]:
    """Each id cut to the shortest prefix (at least `shortest` long) that no other id in `ids`
    shares, as git shows commits; `find_job` takes such a prefix back."""
    order = sorted(set(ids))
    need: dict[str, int] = {}
    for a, b in itertools.pairwise(order):
        common = next((n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        need[a] = max(need.get(a, 0), common + 1)
        need[b] = max(need.get(b, 0), common + 1)
    return [i[: max(shortest, need.get(i, 0))] for i in ids]


@lru_cache(maxsize=4)
def _utc(ts: float) -> datetime:
    """The aware time of an epoch; cached, since a bulk enqueue stamps every job with one `now`."""
    return datetime.fromtimestamp(ts, UTC)
