"""The backend's OPTIONS: how its jobs run (timeout, TTLs, retries), checked once when Django
builds the backend. Unset keys take the SCHEDULER defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler_core.jobs.record import Retry

KEYS = ("TIMEOUT", "RESULT_TTL", "FAILURE_TTL", "RETRIES", "RETRY_BACKOFF")


@dataclass(frozen=True)
class BackendOptions:
    timeout: int | None = None
    result_ttl: int | None = None
    failure_ttl: int | None = None
    retry: Retry | None = None


def _seconds(alias: str, key: str, value: Any, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _error(alias, f"OPTIONS[{key!r}] must be a whole number of seconds >= {minimum}, not {value!r}")
    return value


def _error(alias: str, message: str) -> Exception:
    from django.core.exceptions import ImproperlyConfigured

    return ImproperlyConfigured(f"TASKS[{alias!r}]: {message}")


def parse_options(alias: str, options: dict[str, Any]) -> BackendOptions:
    unknown = sorted(set(options) - set(KEYS))
    if unknown:
        raise _error(alias, f"unknown OPTIONS {', '.join(unknown)} (known: {', '.join(KEYS)})")
    get = options.get
    timeout = _seconds(alias, "TIMEOUT", get("TIMEOUT"), minimum=1) if "TIMEOUT" in options else None
    result_ttl = _seconds(alias, "RESULT_TTL", get("RESULT_TTL")) if "RESULT_TTL" in options else None
    failure_ttl = _seconds(alias, "FAILURE_TTL", get("FAILURE_TTL")) if "FAILURE_TTL" in options else None
    retry = None
    retries = _seconds(alias, "RETRIES", get("RETRIES", 0))
    backoff = get("RETRY_BACKOFF", [0])
    if not isinstance(backoff, (list, tuple)) or not backoff:
        raise _error(alias, f"OPTIONS['RETRY_BACKOFF'] must be a non-empty list of seconds, not {backoff!r}")
    waits = tuple(_seconds(alias, "RETRY_BACKOFF", b) for b in backoff)
    if retries:
        retry = Retry(max=retries, backoff=waits)
    return BackendOptions(timeout, result_ttl, failure_ttl, retry)
