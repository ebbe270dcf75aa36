"""Settings resolution and django.setup(), done lazily by the commands that need Django.

It lives in the app, not the CLI: the worker's own entry point (`python -m scheduler_core.worker`)
and `manage.py taskctl` resolve settings with it too, and the app never imports `taskctl`.

Order (docs/settings.md): --settings > TASKCTL_SETTINGS > DJANGO_SETTINGS_MODULE > taskctl.settings.

Commands that only talk to the broker (queues, jobs, workers) call `setup_broker`: it imports the
settings module and reads SCHEDULER without django.setup(), because the app registry and the ORM
they would never use cost more start-up time than the command itself.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from types import ModuleType

from scheduler_core.errors import ConfigurationError, DatabaseUnavailable, from_service_error

BUILTIN_SETTINGS = "taskctl.settings"  # named, not imported: only the fallback when nothing is set


@dataclass
class Options:
    settings: str | None = None
    pythonpath: str | None = None
    debug: bool = False
    no_color: bool = False


options = Options()
_ready = False  # django.setup() done
_broker_ready = False  # SCHEDULER read without Django
_path_ready = False


def resolve_settings_module(explicit: str | None = None) -> str:
    return (
        explicit
        or os.environ.get("TASKCTL_SETTINGS")
        or os.environ.get("DJANGO_SETTINGS_MODULE")
        or BUILTIN_SETTINGS
    )


def _settings_module() -> str:
    """The settings module's name, importable, and named in DJANGO_SETTINGS_MODULE (once)."""
    global _path_ready
    if not _path_ready:
        if options.pythonpath:
            sys.path.insert(0, os.path.abspath(options.pythonpath))
        elif os.getcwd() not in sys.path and "" not in sys.path:
            # Like django-admin: a project's settings module is importable from where it runs.
            sys.path.insert(0, os.getcwd())
        _path_ready = True
    module = resolve_settings_module(options.settings)
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    return module


def _django_configured() -> bool:
    """Whether this process already has Django settings (set up by its host, e.g. a test run)."""
    conf = sys.modules.get("django.conf")
    return conf is not None and bool(conf.settings.configured)


def setup_broker() -> None:
    """Settings for a broker-only command: SCHEDULER from the settings module, validated (a bad
    module or setting is ConfigurationError, exit 78), and no django.setup()."""
    global _broker_ready
    if _ready or _broker_ready:
        return
    from scheduler_core.conf import get_config, parse_config, use_config

    if _django_configured():
        get_config()  # Django's settings are the truth here (tests override them)
    else:
        module = _settings_module()
        use_config(parse_config(getattr(_import_settings(module), "SCHEDULER", {})))
    _broker_ready = True


def setup_django() -> None:
    """Import settings and run django.setup() once; settings problems become ConfigurationError."""
    global _ready
    if _ready:
        return
    module = _settings_module()
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


def _import_settings(module: str) -> ModuleType:
    """Import the settings module ahead of Django, so any failure in it is one line, exit 78."""
    import importlib

    try:
        return importlib.import_module(module)
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


def check_database(*, create: bool = False) -> None:
    """Open a connection so an unreachable database is exit 69 up front, not mid-command.

    A SQLite file that does not exist is refused (exit 78) unless `create` (`db migrate`): opening
    it would leave an empty file behind, and the command would only find no tables in it."""
    from django.db import connection
    from django.db.utils import OperationalError

    if not create and connection.connection is None and connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if name and name != ":memory:" and not name.startswith("file:") and not os.path.exists(name):
            raise ConfigurationError(
                f"SQLite database {name} does not exist: run `taskctl db migrate` to create it"
            )
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        raise from_service_error(exc) or DatabaseUnavailable(f"database unreachable: {exc}") from None
