"""Minimal Django settings for django-tasks-scheduler 4.4.0, used only by the benchmarks.

Read from the environment (benchlib.side_dts sets them):
  BENCH_REDIS_URL   the benchmark Redis, e.g. redis://127.0.0.1:6379/14 (its DB index is used)
  BENCH_DTS_DB      the SQLite file (a temporary file per run)
  BENCH_DTS_QUEUES  comma-separated queue names (default: "default")
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

_redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
_db_index = int((urlsplit(_redis_url).path or "/0").lstrip("/") or 0)

SECRET_KEY = "benchmarks-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    "scheduler",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DTS_DB", "/tmp/bench-dts.sqlite3"),
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
ROOT_URLCONF = "dts_project.urls"

# django-tasks-scheduler: SCHEDULER_QUEUES (one entry per queue) and SCHEDULER_CONFIG (defaults kept,
# so the scheduler runs at its default 10 s interval).
SCHEDULER_QUEUES = {
    name.strip(): {"URL": _redis_url, "DB": _db_index}
    for name in os.environ.get("BENCH_DTS_QUEUES", "default").split(",")
    if name.strip()
}
SCHEDULER_CONFIG: dict[str, object] = {}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"scheduler": {"handlers": ["stderr"], "level": "WARNING"}},
}
