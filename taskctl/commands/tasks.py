"""`taskctl tasks`: declare tasks from YAML manifests, inspect and act on them.

The commands live in three modules by concern; each adds its commands to `app`.
"""

from __future__ import annotations

import typer

app = typer.Typer(name="tasks", help="Declare (YAML manifests), inspect and run tasks.", no_args_is_help=True)

from taskctl.commands import tasks_inspect, tasks_manifest, tasks_schedule  # noqa: E402

for _module in (tasks_manifest, tasks_inspect, tasks_schedule):
    _module.register(app)
