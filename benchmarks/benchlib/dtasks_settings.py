"""Settings for the taskctl side of django_tasks_enqueue: taskctl's built-in settings (from the
environment, as side_taskctl sets it) plus TASKS on TaskctlBackend."""

from __future__ import annotations

import importlib.util

from taskctl.settings import *  # noqa: F403
from taskctl.settings import INSTALLED_APPS

if importlib.util.find_spec("django.tasks") is None:  # Django 5.2: the backport is an app
    INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks"]
TASKS = {"default": {"BACKEND": "scheduler_core.backend.TaskctlBackend"}}
