"""Root Typer app: global options, the command groups, and the one place errors become exit codes.

Django and redis are never imported here: `taskctl --help` must stay fast.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from taskctl import __version__, bootstrap
from taskctl.commands import db, health, jobs, metrics, queues, scheduler, tasks, worker, workers
from taskctl.failures import exit_code_for

app = typer.Typer(
    name="taskctl",
    help="Operate a database-backed Django task scheduler: tasks, workers, queues and jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    # Plain help and usage errors: Typer's Rich formatting imports Rich, Markdown and Pygments
    # (~0.5 s), which would make `taskctl --help` slow. Sub-apps inherit this from the root.
    rich_markup_mode=None,
)
for module in (db, tasks, worker, scheduler, queues, jobs, workers, metrics):
    app.add_typer(module.app)
app.command("health", short_help="Check the brokers, database, leader scheduler and workers.")(health.health)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"taskctl {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    settings: Annotated[
        str | None, typer.Option("--settings", help="Django settings module (else TASKCTL_SETTINGS, …).")
    ] = None,
    pythonpath: Annotated[
        str | None, typer.Option("--pythonpath", help="Directory prepended to sys.path.")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for expected errors.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour in output.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    bootstrap.options.settings = settings
    bootstrap.options.pythonpath = pythonpath
    bootstrap.options.debug = debug
    bootstrap.options.no_color = no_color or bool(os.environ.get("NO_COLOR"))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (docs/exit-codes.md).

    Typer's standalone mode already maps usage errors to 2 and Ctrl-C to 130; this adds the
    project's error tree: one line on stderr and the class's exit code.
    """
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        app(args=argv, prog_name="taskctl")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        return exit_code_for(exc, debug=debug)
    return 0


def main() -> None:
    sys.exit(run())
