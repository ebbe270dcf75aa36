"""Settings resolution and django.setup(), done lazily by the commands that need Django.

Order (DESIGN §2.1): --settings > TASKCTL_SETTINGS > DJANGO_SETTINGS_MODULE > taskctl.settings.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from scheduler_core.errors import ConfigurationError, DatabaseUnavailable

BUILTIN_SETTINGS = "taskctl.settings"


@dataclass
class Options:
    settings: str | None = None
    pythonpath: str | None = None
    debug: bool = False
    no_color: bool = False


options = Options()
_ready = False


def resolve_settings_module(explicit: str | None = None) -> str:
    return (
        explicit
        or os.environ.get("TASKCTL_SETTINGS")
        or os.environ.get("DJANGO_SETTINGS_MODULE")
        or BUILTIN_SETTINGS
    )


def setup_django() -> None:
    """Import settings and run django.setup() once; settings problems become ConfigurationError."""
    global _ready
    if _ready:
        return
    if options.pythonpath:
        sys.path.insert(0, os.path.abspath(options.pythonpath))
    elif os.getcwd() not in sys.path and "" not in sys.path:
        # Like django-admin: a project's settings module is importable from where it runs.
        sys.path.insert(0, os.getcwd())
    module = resolve_settings_module(options.settings)
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    _import_settings(module)
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ConfigurationError:
        raise
    except ImproperlyConfigured as exc:
        raise ConfigurationError(f"settings {module!r}: {exc}") from None
    from scheduler_core.conf import get_config

    get_config()  # validate SCHEDULER now, so a bad setting is exit 78 before any work
    _ready = True


def _import_settings(module: str) -> None:
    """Import the settings module ahead of Django, so any failure in it is one line, exit 78."""
    import importlib

    try:
        importlib.import_module(module)
    except ConfigurationError:
        raise
    except SyntaxError as exc:
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else module
        raise ConfigurationError(f"settings module {module!r}: {where}: {exc.msg}") from None
    except ImportError as exc:
        raise ConfigurationError(f"settings module {module!r} cannot be imported: {exc}") from None
    except Exception as exc:
        raise ConfigurationError(
            f"settings module {module!r} failed to load: {type(exc).__name__}: {exc}"
        ) from None


def check_database() -> None:
    """Open a connection so an unreachable database is exit 69 up front, not mid-command."""
    from django.db import connection
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"database unreachable: {first}") from None
