"""`taskctl db`: Database: migrations."""

from __future__ import annotations

import typer

from taskctl import bootstrap

app = typer.Typer(name="db", help="Database: migrations.", no_args_is_help=True)


@app.command("migrate")
def migrate() -> None:
    """Create or update the scheduler's tables (Django's migrate)."""
    bootstrap.setup_django()
    bootstrap.check_database(create=True)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from taskctl.render import info

    info("database migrated")
