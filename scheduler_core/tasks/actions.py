"""Operator actions on one task by name: enable, disable, delete.

Each is one DB transaction; the broker hears of it only after the commit, through Task's
signals and `replan.tasks_changed` (so a rolled-back change never reaches the broker).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskChange:
    """What an action did: `changed` is False when the task was already in that state."""

    name: str
    changed: bool
    set_name: str | None = None


def set_enabled(name: str, enabled: bool) -> TaskChange:
    """Enable or disable the task `name`; NotFound (exit 3) when there is none."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from scheduler_core.errors import InvalidTask
    from scheduler_core.tasks.lookup import find_task

    with transaction.atomic():
        task = find_task(name, for_update=True)
        set_name = task.task_set.name if task.task_set_id is not None else None  # type: ignore[union-attr]
        if task.enabled == enabled:
            return TaskChange(name, False, set_name)
        task.enabled = enabled
        # save() refreshes spec_hash; Task's post_save signal re-plans it after the commit
        # (a disable always goes through, even for a quarantined row; an enable is validated)
        try:
            task.save(update_fields=["enabled", "spec_hash", "updated_at"], validate=enabled)
        except ValidationError as exc:
            raise InvalidTask.of(name, exc) from None
    return TaskChange(name, True, set_name)


def delete_task(name: str) -> TaskChange:
    """Delete the task `name` (its pending job is removed after the commit); NotFound when none.

    `set_name` tells the caller that a manifest set owned it: that set's next apply re-creates it."""
    from django.db import transaction

    from scheduler_core.tasks.lookup import find_task

    with transaction.atomic():
        task = find_task(name, for_update=True)
        set_name = task.task_set.name if task.task_set_id is not None else None  # type: ignore[union-attr]
        task.delete()  # Task's post_delete signal removes its pending job after the commit
    return TaskChange(name, True, set_name)
