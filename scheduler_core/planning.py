"""Edits take effect now: after a task change commits, its pending job is replaced or removed.

Stub until the scheduler issue fills it in: `tasks_changed` is the one entry point that the ORM
signals, the manifest's apply and the admin call after a commit.
"""

from __future__ import annotations

from collections.abc import Iterable


def tasks_changed(task_ids: Iterable[int], deleted: Iterable[tuple[int, str, str]] = ()) -> None:
    """Re-plan these tasks' pending jobs; `deleted` is (id, queue, pending_job_id) of removed tasks."""
    return None
