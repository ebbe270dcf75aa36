"""Django system checks: warn where any importable callable can run (docs/security.md)."""

from __future__ import annotations

from typing import Any

from django.core import checks

OPEN_CALLABLES = (
    "SCHEDULER['ALLOWED_CALLABLES'] is not set and DEBUG is False: any importable callable "
    "(os.system too) can run as a job; set it to your jobs' module prefixes "
    "(built-in settings: TASKCTL_ALLOWED_CALLABLES)"
)


def open_callables_warning() -> str | None:
    """The warning line when this project lets any callable run in production, else None."""
    from django.conf import settings

    from scheduler_core.conf import get_config
    from scheduler_core.errors import TaskctlError

    if getattr(settings, "DEBUG", False):
        return None
    try:
        allowed = get_config().allowed_callables
    except TaskctlError:
        return None  # a bad SCHEDULER setting has its own error
    return None if allowed else OPEN_CALLABLES


@checks.register(checks.Tags.security)
def check_allowed_callables(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    message = open_callables_warning()
    if message is None:
        return []
    return [checks.Warning(message, id="scheduler_core.W001")]
