"""The django.tasks task the django_tasks_enqueue scenario enqueues (importable in both venvs:
django.tasks on Django 6.0+, the django-tasks backport on 5.2). Import it after django.setup()."""

from __future__ import annotations

try:
    from django.tasks import task
except ImportError:  # Django 5.2: the backport
    from django_tasks import task  # type: ignore[no-redef]


@task
def noop() -> None:
    return None
