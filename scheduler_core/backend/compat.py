"""Django's tasks framework from wherever it is: `django.tasks` (Django 6.0+), else the `django-tasks`
backport (`pip install 'taskctl[django-tasks]'`, for Django 5.2). One import site, so the backend,
the worker's runner and the results speak the same classes as the site's own `@task` functions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:  # typed against django.tasks (django-stubs); the backport has the same shapes
    from django.tasks import signals
    from django.tasks.backends.base import BaseTaskBackend
    from django.tasks.base import (
        DEFAULT_TASK_PRIORITY,
        Task,
        TaskContext,
        TaskError,
        TaskResult,
        TaskResultStatus,
    )
    from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
    from django.utils.json import normalize_json

    FRAMEWORK = "django.tasks"
else:
    try:
        from django.tasks import signals
        from django.tasks.backends.base import BaseTaskBackend
        from django.tasks.base import (
            DEFAULT_TASK_PRIORITY,
            Task,
            TaskContext,
            TaskError,
            TaskResult,
            TaskResultStatus,
        )
        from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
        from django.utils.json import normalize_json

        FRAMEWORK = "django.tasks"
    except ImportError:  # Django 5.2: the backport
        try:
            from django_tasks import signals
            from django_tasks.backends.base import BaseTaskBackend
            from django_tasks.base import (
                DEFAULT_TASK_PRIORITY,
                Task,
                TaskContext,
                TaskError,
                TaskResult,
                TaskResultStatus,
            )
            from django_tasks.exceptions import TaskResultDoesNotExist
            from django_tasks.utils import normalize_json

            try:
                from django_tasks.exceptions import InvalidTask
            except ImportError:  # the backport's name before it followed Django's (0.12 and earlier)
                from django_tasks.exceptions import InvalidTaskError as InvalidTask

            FRAMEWORK = "django_tasks"
        except ImportError:
            raise ImproperlyConfigured(
                "scheduler_core.backend.TaskctlBackend needs Django's tasks framework: Django 6.0 or "
                "later, or on Django 5.2 the backport (pip install 'taskctl[django-tasks]')"
            ) from None

if TYPE_CHECKING:
    AnyTask = Task[Any, Any]
    AnyResult = TaskResult[Any, Any]
else:  # not subscriptable at run time on every version
    AnyTask = Task
    AnyResult = TaskResult


def is_task(obj: Any) -> bool:
    return isinstance(obj, Task)


__all__ = [
    "DEFAULT_TASK_PRIORITY",
    "FRAMEWORK",
    "AnyResult",
    "AnyTask",
    "BaseTaskBackend",
    "InvalidTask",
    "Task",
    "TaskContext",
    "TaskError",
    "TaskResult",
    "TaskResultDoesNotExist",
    "TaskResultStatus",
    "is_task",
    "normalize_json",
    "signals",
]
