"""Minimal Django settings for django-tasks-rq (RQBackend over django-rq), used only by the
django_tasks_enqueue benchmark. BENCH_REDIS_URL names the benchmark Redis."""

from __future__ import annotations

import os

SECRET_KEY = "benchmarks-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["django_tasks", "django_rq"]
DATABASES: dict[str, object] = {}
TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
RQ_QUEUES = {"default": {"URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")}}
