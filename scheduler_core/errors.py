"""One error tree for the whole project. Each class carries the CLI exit code (docs/exit-codes.md).

Expected failures raise one of these with a one-line message; the CLI prints the line and exits
with ``exit_code``. Anything else is a bug (exit 70).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler_core.jobs.record import Job


class TaskctlError(Exception):
    """Base of every expected failure."""

    exit_code = 70


class UsageError(TaskctlError):
    """The command was called wrongly (e.g. a destructive command off a TTY without --yes)."""

    exit_code = 2


class InvalidInput(TaskctlError):
    """A manifest, argument or field failed validation; nothing was written."""

    exit_code = 3


class NotFound(InvalidInput):
    """A named queue, job or task does not exist."""


class UnknownQueue(NotFound):
    """A queue name that is not configured in SCHEDULER["QUEUES"]."""


class NotSerializable(InvalidInput):
    """A job argument or result that is not JSON."""


class CallableError(InvalidInput):
    """A dotted path that does not import, is not callable, or is not allowed."""


class InvalidTask(InvalidInput):
    """A Task spec that fails the model's validation (the messages of its ValidationError)."""

    @classmethod
    def of(cls, name: str, exc: Exception) -> InvalidTask:
        """One line from a Django ValidationError: `task 'x': cron: invalid cron ...; queue: ...`."""
        by_field = getattr(exc, "message_dict", None)
        if isinstance(by_field, dict):
            text = "; ".join(f"{f}: {' '.join(m)}" for f, m in by_field.items())
        else:
            text = " ".join(getattr(exc, "messages", [str(exc)]))
        return cls(f"task {name!r}: {text}")


class CorruptRecord(InvalidInput):
    """A job record in the broker that cannot be read (bad JSON, missing fields, wrong types)."""


class Conflict(TaskctlError):
    """Apply would take over a task owned by another set or made by hand, or a lock is held."""

    exit_code = 4


class Unavailable(TaskctlError):
    """A service did not answer in time."""

    exit_code = 69


class BrokerUnavailable(Unavailable):
    """The Redis/Valkey broker is unreachable."""


class BrokerOutOfMemory(BrokerUnavailable):
    """The broker refused a write: it is at its `maxmemory` with the `noeviction` policy.

    Reads and deletions still work; writes resume once memory is freed or the limit raised."""


class EnqueueIncomplete(BrokerOutOfMemory):
    """A bulk enqueue stopped part-way: `written` jobs (ids in `ids`, in call order) are stored
    and will run; the others were not written. Enqueue the rest again once the broker has room."""

    def __init__(self, message: str, written: list[str], total: int) -> None:
        super().__init__(message)
        self.ids = written
        self.written = len(written)
        self.total = total


class DatabaseUnavailable(Unavailable):
    """The database is unreachable."""


class ConfigurationError(TaskctlError):
    """Settings are missing or wrong: no settings module, a bad URL, an unknown queue in settings."""

    exit_code = 78


class JobFailed(TaskctlError):
    """`Job.wait()` on a job that failed, was stopped or was canceled: carries the job and its error."""

    exit_code = 1

    def __init__(self, job: Job) -> None:
        self.job = job
        self.exc_type = job.exc_type
        self.exc_message = job.exc_message
        self.traceback = job.traceback
        error = f": {job.exc_type}: {job.exc_message}" if job.exc_type else ""
        super().__init__(f"job {job.id} {job.status.value}{error}")


class Interrupted(TaskctlError):
    """Ctrl-C."""

    exit_code = 130


_MISSING_TABLE = ("no such table", "does not exist")  # SQLite's and PostgreSQL's wording


def from_service_error(exc: BaseException) -> TaskctlError | None:
    """The project error for a database or broker exception that escaped a command, else None.

    Looks only at modules already imported, so that it costs nothing where they are not used."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    django_db = sys.modules.get("django.db")
    if django_db is not None and isinstance(exc, django_db.DatabaseError):
        if any(s in first for s in _MISSING_TABLE) and ("scheduler_core" in first or "table" in first):
            return ConfigurationError(
                f"the database has no taskctl tables ({first}): run `taskctl db migrate`"
            )
        if (
            isinstance(exc, (django_db.OperationalError, django_db.InterfaceError))
            or "connection" in first.lower()
        ):
            return DatabaseUnavailable(f"database unreachable: {first}")
    if is_out_of_memory(exc):
        return out_of_memory()
    redis = sys.modules.get("redis")
    if redis is not None and isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return BrokerUnavailable(f"broker unreachable: {first}")
    return None


_OOM_REPLY = "OOM command not allowed"  # Redis / Valkey's reply, also inside a script's error


def is_out_of_memory(exc: BaseException) -> bool:
    """True for the broker's out-of-memory refusal (redis-py's OutOfMemoryError, or that reply
    wrapped in a script error by older servers)."""
    redis = sys.modules.get("redis")
    if redis is None or not isinstance(exc, redis.ResponseError):
        return False
    return isinstance(exc, redis.exceptions.OutOfMemoryError) or _OOM_REPLY in str(exc)


OOM_HINT = "free memory or raise maxmemory; taskctl needs the noeviction policy"


def out_of_memory() -> BrokerOutOfMemory:
    return BrokerOutOfMemory(f"broker out of memory: it refuses writes at its maxmemory limit ({OOM_HINT})")
