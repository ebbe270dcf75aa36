"""`taskctl scheduler`: Run the scheduler alone, or one pass of it."""

from __future__ import annotations

import typer

app = typer.Typer(name="scheduler", help="Run the scheduler alone, or one pass of it.", no_args_is_help=True)
