"""Django's tasks framework on taskctl:
`TASKS = {"default": {"BACKEND": "scheduler_core.backend.TaskctlBackend"}}` (docs/django-tasks.md).

Imported only when a site configures it (it needs `django.tasks` or the `django-tasks` backport)."""

from scheduler_core.backend.backend import TaskctlBackend

__all__ = ["TaskctlBackend"]
