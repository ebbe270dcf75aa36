"""The job record: fields, and its JSON-only encoding to a Redis hash.

Arguments, results and meta are JSON: a broker write can never become code execution. Times are
epoch seconds (floats) in the hash and aware UTC datetimes in the Python API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson

from scheduler_core.errors import NotFound, NotSerializable


class JobStatus(str, Enum):  # noqa: UP042 (str() of a member must stay as it is)
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    ACTIVE = "active"
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"  # ended by a stop command; kept in the failed registry
    CANCELED = "canceled"


TERMINAL_STATUSES = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})


@dataclass(frozen=True)
class Retry:
    """Attempts after the first failure, and the wait before each (the last wait repeats)."""

    max: int
    backoff: tuple[int, ...] = (0,)

    def delay(self, attempt: int) -> int:
        """Seconds to wait before retry number `attempt` (1-based)."""
        if not self.backoff:
            return 0
        return self.backoff[min(attempt, len(self.backoff)) - 1]


# orjson: ~10x faster than the stdlib on the enqueue hot path. Datetimes, dataclasses and
# subclasses of builtins are refused rather than silently turned into strings.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def dumps(value: Any, what: str) -> bytes:
    """Encode `value` as JSON or raise NotSerializable naming `what`.

    NaN and infinities are refused too: orjson would write them as null, silently."""
    try:
        out = orjson.dumps(value, option=_STRICT)
    except TypeError as exc:
        raise NotSerializable(f"{what} must be JSON-serialisable: {exc}") from None
    if b"null" in out and _non_finite(value):
        raise NotSerializable(f"{what} must be JSON-serialisable: NaN and infinity are not JSON")
    return out


def _non_finite(value: Any) -> bool:
    """Whether a float NaN / inf hides in `value` (walked only when the output holds a null)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_non_finite(v) for v in value)
    return False


loads = orjson.loads


def _ts(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value else None


def _int(value: str | None, default: int = 0) -> int:
    return int(value) if value not in (None, "") else default


def _typed(spec: dict[str, Any], key: str, kind: type | tuple[type, ...], *, required: bool = False) -> None:
    """Refuse a spec field of the wrong JSON type (a bool is no number here)."""
    if key not in spec:
        if required:
            raise KeyError(key)
        return
    value = spec[key]
    if value is None and not required:
        return
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise TypeError(f"spec.{key} is {type(value).__name__}")


def _reason(exc: BaseException) -> str:
    """The one-line reason a record is corrupt."""
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, orjson.JSONDecodeError):
        return f"spec is not JSON ({text})"
    return text


@dataclass
class Job:
    id: str
    queue: str
    callable: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    status: JobStatus = JobStatus.QUEUED
    created_at: datetime | None = None
    enqueued_at: datetime | None = None
    due_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    timeout: int = 300
    result_ttl: int = 86400
    failure_ttl: int = 604800
    at_front: bool = False
    result: Any = None
    result_is_repr: bool = False
    exc_type: str = ""
    exc_message: str = ""
    traceback: str = ""
    worker: str = ""
    task_id: int | None = None
    occurrence: datetime | None = None
    on_success: str = ""
    on_failure: str = ""
    on_stopped: str = ""
    retries_left: int = 0
    backoff: list[int] = field(default_factory=list)
    attempt: int = 1
    meta: dict[str, Any] = field(default_factory=dict)
    corrupt: str = ""  # why the record cannot be read ("" for a sound one): see from_fields
    # earlier attempts that failed and were retried: attempt, started_at, ended_at (epoch s),
    # exc_type, exc_message (the latest attempt is the record's own fields)
    history: list[dict[str, Any]] = field(default_factory=list)
    # where the job lives: "" in the broker; "eager": run in the caller (SCHEDULER["EAGER"]), the
    # record is this object; "on_commit": not sent yet, waiting for its transaction to commit
    delivery: str = field(default="", repr=False, compare=False)

    @classmethod
    def from_fields(cls, job_id: str, queue: str, h: dict[str, str]) -> Job:
        """Build a Job from its hash (HGETALL with decoded responses).

        The hash holds `spec` (JSON: what to run and how, written once at enqueue) and flat
        fields for the state that scripts change (status, times, worker, attempts, outcome).
        A record that cannot be read (bad JSON, missing or mistyped fields: a hand-written hash,
        a bug elsewhere) never raises: it comes back with `corrupt` set to what is wrong, so
        that every view shows it and every action on it still works."""
        try:
            return cls._strict(job_id, queue, h)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            return cls.corrupt_record(job_id, queue, h, _reason(exc))

    @classmethod
    def _strict(cls, job_id: str, queue: str, h: dict[str, str]) -> Job:
        if "corrupt" in h:  # marked by a script (the key was not even a hash)
            raise ValueError(h["corrupt"])
        if not h.get("spec"):
            raise KeyError("spec")
        spec = loads(h["spec"])
        if not isinstance(spec, dict):
            raise TypeError(f"spec is {type(spec).__name__}, not an object")
        _typed(spec, "callable", str, required=True)
        _typed(spec, "args", list)
        _typed(spec, "kwargs", dict)
        _typed(spec, "meta", dict)
        _typed(spec, "backoff", list)
        for key in ("on_success", "on_failure", "on_stopped"):
            _typed(spec, key, str)
        for key in ("created_at", "occurrence", "timeout", "result_ttl", "task_id"):
            _typed(spec, key, (int, float))
        if not spec["callable"]:
            raise ValueError("spec.callable is empty")
        result: Any = loads(h["result"]) if "result" in h else None
        created = spec.get("created_at")
        occurrence = spec.get("occurrence")
        task_id = spec.get("task_id")
        return cls(
            id=job_id,
            queue=queue,
            callable=spec["callable"],
            args=spec.get("args", []),
            kwargs=spec.get("kwargs", {}),
            status=JobStatus(h.get("status", "queued")),
            created_at=datetime.fromtimestamp(created, UTC) if created else None,
            enqueued_at=_ts(h.get("enqueued_at")),
            due_at=_ts(h.get("due_at")),
            started_at=_ts(h.get("started_at")),
            ended_at=_ts(h.get("ended_at")),
            timeout=int(spec.get("timeout", 300)),
            result_ttl=int(spec.get("result_ttl", 86400)),
            failure_ttl=_int(h.get("failure_ttl"), 604800),
            at_front=h.get("at_front") == "1",
            result=result,
            result_is_repr=h.get("result_repr") == "1",
            exc_type=h.get("exc_type", ""),
            exc_message=h.get("exc_message", ""),
            traceback=h.get("traceback", ""),
            worker=h.get("worker", ""),
            task_id=int(task_id) if task_id is not None else None,
            occurrence=datetime.fromtimestamp(occurrence, UTC) if occurrence else None,
            on_success=spec.get("on_success", ""),
            on_failure=spec.get("on_failure", ""),
            on_stopped=spec.get("on_stopped", ""),
            retries_left=_int(h.get("retries_left")),
            backoff=[int(x) for x in spec.get("backoff", [])],
            attempt=_int(h.get("attempt"), 1),
            # `save_meta` writes its own field; the spec's copy is the enqueue-time meta
            meta=loads(h["meta"]) if h.get("meta") else spec.get("meta", {}),
            history=loads(h["history"]) if h.get("history") else [],
        )

    @classmethod
    def corrupt_record(cls, job_id: str, queue: str, h: dict[str, str], reason: str) -> Job:
        """What can be read of an unreadable record: its state fields where they parse."""

        def safe(read: Any, *args: Any) -> Any:
            try:
                return read(*args)
            except (ValueError, TypeError, OverflowError):
                return None

        status = safe(JobStatus, h.get("status", "queued")) or JobStatus.FAILED
        return cls(
            id=job_id,
            queue=queue,
            callable="",
            status=status,
            enqueued_at=safe(_ts, h.get("enqueued_at")),
            due_at=safe(_ts, h.get("due_at")),
            started_at=safe(_ts, h.get("started_at")),
            ended_at=safe(_ts, h.get("ended_at")),
            failure_ttl=safe(_int, h.get("failure_ttl"), 604800) or 604800,
            exc_type=str(h.get("exc_type", "")),
            exc_message=str(h.get("exc_message", "")),
            worker=str(h.get("worker", "")),
            attempt=safe(_int, h.get("attempt"), 1) or 1,
            corrupt=reason[:500],
        )

    # ----- talking to the broker about this job -----
    def save_meta(self) -> None:
        """Write `meta` to the broker's record, touching no other field (progress reports: a
        caller's `refresh()` or `jobs show` sees it while the job runs)."""
        if self.delivery == "":
            from scheduler_core.queues.queue import get_queue  # noqa: PLC0415 (it imports this module)

            get_queue(self.queue).save_meta(self.id, self.meta)

    def refresh(self) -> Job:
        """Re-read the record from the broker into this object (NotFound once it is gone)."""
        if self.delivery == "":
            from scheduler_core.queues.queue import get_queue  # noqa: PLC0415 (it imports this module)

            fresh = get_queue(self.queue).fetch_job(self.id)
            if fresh is None:
                raise NotFound(f"job {self.id!r} not found in queue {self.queue!r}")
            for f in fields(self):
                if f.name != "delivery":
                    setattr(self, f.name, getattr(fresh, f.name))
        return self

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the job ended; return its result. JobFailed if it failed (was stopped or
        canceled), TimeoutError after `timeout` seconds (None: no limit). The broker wakes the
        caller (no polling); the record is refreshed into this object."""
        from scheduler_core.jobs.waiting import wait  # noqa: PLC0415 (it imports this module)

        return wait(self, timeout)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """Plain data for output (times as datetimes; render turns them into ISO-8601 UTC)."""
        return {
            "id": self.id,
            "queue": self.queue,
            "status": self.status.value,
            "callable": self.callable if not self.corrupt else "(corrupt record)",
            "args": self.args,
            "kwargs": self.kwargs,
            "created_at": self.created_at,
            "enqueued_at": self.enqueued_at,
            "due_at": self.due_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration": (self.ended_at - self.started_at).total_seconds()
            if self.ended_at and self.started_at
            else None,
            "timeout": self.timeout,
            "result_ttl": self.result_ttl,
            "failure_ttl": self.failure_ttl,
            "worker": self.worker or None,
            "attempt": self.attempt,
            "retries_left": self.retries_left,
            "result": self.result,
            "result_is_repr": self.result_is_repr,
            "exc_type": self.exc_type or None,
            "exc_message": self.exc_message or None,
            "traceback": self.traceback or None,
            "task_id": self.task_id,
            "occurrence": self.occurrence,
            "meta": self.meta,
            **({"corrupt": self.corrupt} if self.corrupt else {}),  # only a record that is
        }
