"""`taskctl workers`: Inspect and command running workers."""

from __future__ import annotations

import typer

app = typer.Typer(name="workers", help="Inspect and command running workers.", no_args_is_help=True)
