"""`taskctl db`: Database: migrations."""

from __future__ import annotations

import typer

from taskctl import bootstrap
from taskctl.render import Format, OutputOption

app = typer.Typer(name="db", help="Database: migrations.", no_args_is_help=True)


@app.command("migrate")
def migrate(output: Format | None = OutputOption) -> None:
    """Create or update the scheduler's tables (Django's migrate); -o json|yaml lists what it applied."""
    bootstrap.setup_django()
    bootstrap.check_database(create=True)
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = [
        f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())
    ]
    call_command("migrate", interactive=False, verbosity=0)
    from taskctl.render import emit_object, info, resolve

    if resolve(output) in (Format.json, Format.yaml):
        emit_object(output, "migration", {"database": connection.vendor, "applied": pending})
    else:
        info(f"database migrated ({len(pending)} migration{'' if len(pending) == 1 else 's'} applied)")
