"""The CLI's settings resolution is the app's (scheduler_core.bootstrap): one implementation, one
`options` object, shared with the worker's entry point and `manage.py taskctl`."""

from scheduler_core.bootstrap import (
    BUILTIN_SETTINGS,
    Options,
    check_database,
    options,
    resolve_settings_module,
    setup_broker,
    setup_django,
)

__all__ = [
    "BUILTIN_SETTINGS",
    "Options",
    "check_database",
    "options",
    "resolve_settings_module",
    "setup_broker",
    "setup_django",
]
