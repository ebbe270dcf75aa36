"""Find one task by name: the one lookup every command and view uses."""

from __future__ import annotations

from scheduler_core.errors import NotFound
from scheduler_core.models import Task


def searchable(name: str) -> bool:
    """Whether a name can be looked up at all: PostgreSQL refuses a NUL in any text, and no task
    can be named so (the model refuses control characters), so such a name is simply not found."""
    return "\x00" not in name


def find_task(name: str, *, for_update: bool = False) -> Task:
    """The task called `name` (with its set), else NotFound (exit 3). `for_update` locks the row
    (inside the caller's transaction)."""
    if searchable(name):
        # locked rows are not joined: PostgreSQL refuses FOR UPDATE on the nullable side of a join
        rows = Task.objects.select_for_update() if for_update else Task.objects.select_related("task_set")
        task = rows.filter(name=name).first()
        if task is not None:
            return task
    raise NotFound(f"task {name!r} not found")
