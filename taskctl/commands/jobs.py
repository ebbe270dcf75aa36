"""`taskctl jobs`: Inspect and act on jobs."""

from __future__ import annotations

import typer

app = typer.Typer(name="jobs", help="Inspect and act on jobs.", no_args_is_help=True)
