"""`taskctl queues`: Inspect and clear queues."""

from __future__ import annotations

import typer

app = typer.Typer(name="queues", help="Inspect and clear queues.", no_args_is_help=True)
