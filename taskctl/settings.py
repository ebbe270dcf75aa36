"""Built-in standalone Django settings, used when no settings module is given.

Everything comes from the environment (docs/settings.md):
TASKCTL_DATABASE_URL, TASKCTL_BROKER_URL, TASKCTL_QUEUES, TASKCTL_TIME_ZONE,
TASKCTL_ALLOWED_CALLABLES (comma-separated dotted prefixes of the callables that may run),
TASKCTL_LOG_LEVEL.
"""

from __future__ import annotations

import os
from typing import Any

import dj_database_url

from scheduler_core.errors import ConfigurationError

_DRIVERS = {"mysql": ("MySQLdb", "mysqlclient"), "oracle": ("oracledb", "oracledb")}


def _database(url: str) -> dict[str, Any]:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not scheme:
        raise ConfigurationError("TASKCTL_DATABASE_URL: not a URL (expected sqlite:///PATH or postgres://…)")
    try:
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except Exception as exc:  # dj-database-url raises several types for a bad URL
        if "unknown" in str(exc).lower() and "scheme" in str(exc).lower():
            raise ConfigurationError(
                f"TASKCTL_DATABASE_URL: unsupported scheme {scheme!r} (expected sqlite:///PATH or postgres://…)"
            ) from None
        # Not the URL itself: it may hold a password.
        raise ConfigurationError(f"TASKCTL_DATABASE_URL ({scheme}://…): {exc}") from None
    if not db.get("ENGINE"):
        raise ConfigurationError("TASKCTL_DATABASE_URL: unsupported database URL scheme")
    driver = _DRIVERS.get(str(db["ENGINE"]).rsplit(".", 1)[-1])
    if driver is not None:
        import importlib.util

        module, package = driver
        if importlib.util.find_spec(module) is None:  # Django would say so in two lines, later
            raise ConfigurationError(
                f"TASKCTL_DATABASE_URL ({scheme}://…): the driver is not installed (pip install {package})"
            )
    if "postgresql" in str(db["ENGINE"]):
        # Fail within seconds when the server is down, rather than hang.
        db.setdefault("OPTIONS", {})["connect_timeout"] = 3
    if "sqlite" in str(db["ENGINE"]):
        # Workers and the scheduler write from several processes: wait on a lock, do not fail.
        db.setdefault("OPTIONS", {})["timeout"] = 20
    return db


def _time_zone(name: str) -> str:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ConfigurationError(
            f"TASKCTL_TIME_ZONE {name!r}: not an IANA time zone (e.g. Europe/Berlin)"
        ) from None
    return name


def _log_level(name: str) -> str:
    level = name.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigurationError(f"TASKCTL_LOG_LEVEL {name!r}: one of debug, info, warning, error, critical")
    return level


SECRET_KEY = os.environ.get("TASKCTL_SECRET_KEY", "taskctl-standalone-not-secret")
DEBUG = False
USE_TZ = True
TIME_ZONE = _time_zone(os.environ.get("TASKCTL_TIME_ZONE", "UTC"))
# Only the app taskctl needs: the built-in settings serve no pages, so the admin, auth, sessions
# and messages would be ~3.5 MiB of imports in every worker process and slower commands for nothing.
# A project that wants the admin uses its own settings (`--settings`), where scheduler_core's
# admin.py is picked up as usual.
INSTALLED_APPS = ["scheduler_core"]
DATABASES = {"default": _database(os.environ.get("TASKCTL_DATABASE_URL", "sqlite:///taskctl.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
_queues = [q.strip() for q in os.environ.get("TASKCTL_QUEUES", "default").split(",") if q.strip()]
SCHEDULER = {
    "BROKER_URL": os.environ.get("TASKCTL_BROKER_URL", "redis://127.0.0.1:6379/0"),
    "QUEUES": {name: {} for name in _queues},
}
_allowed = [p.strip() for p in os.environ.get("TASKCTL_ALLOWED_CALLABLES", "").split(",") if p.strip()]
if _allowed:
    SCHEDULER["ALLOWED_CALLABLES"] = _allowed
if os.environ.get("TASKCTL_KEY_PREFIX"):
    SCHEDULER["KEY_PREFIX"] = os.environ["TASKCTL_KEY_PREFIX"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": _log_level(os.environ.get("TASKCTL_LOG_LEVEL", "WARNING"))},
}
