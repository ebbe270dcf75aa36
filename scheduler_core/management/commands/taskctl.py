"""`python manage.py taskctl ...`: the whole taskctl CLI with the project's settings.

Every command, option, output and exit code is the CLI's own: the arguments go to it untouched
(Django's argument parser never sees them), except `--settings` / `--pythonpath`, which Django has
already applied and which become the CLI's own (so TASKCTL_SETTINGS cannot point the command at
another project). This is the one place the app calls the CLI, imported here, lazily:
scheduler_core stays importable without taskctl.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

_DJANGO_GLOBALS = ("--settings", "--pythonpath")


def cli_argv(args: list[str], settings_module: str, project_dir: str) -> list[str]:
    """The CLI's argv: Django's global options (applied already, and allowed anywhere by Django)
    moved to the front, as the CLI takes them; the project's directory is the default
    --pythonpath, so a worker exec'd from here imports the settings wherever it was started."""
    rest: list[str] = []
    pythonpath = project_dir
    it = iter(args)
    for arg in it:
        name, eq, value = arg.partition("=")
        if name in _DJANGO_GLOBALS:
            value = value if eq else next(it, "")
            if name == "--pythonpath":
                pythonpath = value
            continue
        rest.append(arg)
    return ["--settings", settings_module, "--pythonpath", pythonpath, *rest]


def _project_dir(script: str) -> str:
    """Where manage.py is (Django puts it first on sys.path), else the current directory."""
    return os.path.dirname(os.path.abspath(script)) if script.endswith(".py") else os.getcwd()


class Command(BaseCommand):
    help = "Run the taskctl CLI with this project's settings (python manage.py taskctl --help)."

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            from taskctl.app import run
        except ImportError as exc:  # pragma: no cover - the CLI ships in the same distribution
            raise CommandError(f"the taskctl CLI is not importable: {exc}") from None
        sys.exit(run(cli_argv(argv[2:], settings.SETTINGS_MODULE, _project_dir(argv[0]))))

    def handle(self, *args: Any, **options: Any) -> None:  # call_command("taskctl", ...)
        from taskctl.app import run

        code = run(cli_argv([str(a) for a in args], settings.SETTINGS_MODULE, os.getcwd()))
        if code:
            raise CommandError(f"taskctl exited with status {code}", returncode=code)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("args", nargs="*", help="taskctl arguments (see python manage.py taskctl --help)")
        return parser
