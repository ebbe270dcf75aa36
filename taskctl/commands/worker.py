"""`taskctl worker`: Run a worker (and its scheduler)."""

from __future__ import annotations

import typer

app = typer.Typer(name="worker", help="Run a worker (and its scheduler).", no_args_is_help=True)
