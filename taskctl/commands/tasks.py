"""`taskctl tasks`: Declare and inspect tasks (YAML manifests)."""

from __future__ import annotations

import typer

app = typer.Typer(name="tasks", help="Declare and inspect tasks (YAML manifests).", no_args_is_help=True)
