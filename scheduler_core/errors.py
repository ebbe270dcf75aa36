"""One error tree for the whole project. Each class carries the CLI exit code (DESIGN §2.3).

Expected failures raise one of these with a one-line message; the CLI prints the line and exits
with ``exit_code``. Anything else is a bug (exit 70).
"""

from __future__ import annotations


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


class Conflict(TaskctlError):
    """Apply would take over a task owned by another set or made by hand, or a lock is held."""

    exit_code = 4


class Unavailable(TaskctlError):
    """A service did not answer in time."""

    exit_code = 69


class BrokerUnavailable(Unavailable):
    """The Redis/Valkey broker is unreachable."""


class DatabaseUnavailable(Unavailable):
    """The database is unreachable."""


class ConfigurationError(TaskctlError):
    """Settings are missing or wrong: no settings module, a bad URL, an unknown queue in settings."""

    exit_code = 78


class Interrupted(TaskctlError):
    """Ctrl-C."""

    exit_code = 130
