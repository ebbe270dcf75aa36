"""Settings for the test suite: TASKCTL_TEST_DATABASE_URL (SQLite by default) and a real Redis."""

from __future__ import annotations

import importlib.util
import os

import dj_database_url

_db_url = os.environ.get("TASKCTL_TEST_DATABASE_URL", "sqlite:///test-taskctl.sqlite3")
SECRET_KEY = "tests"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",  # the admin's CSS and JS for the browser tests' live server
    "scheduler_core",
]
STATIC_URL = "static/"
# Django 6.0+ has django.tasks; on 5.2 TaskctlBackend runs on the backport, an app there. Looked
# for on disk: importing django here would load it into broker-only commands (test_startup_broker).
_django = importlib.util.find_spec("django")
if _django and not any(
    os.path.isdir(os.path.join(d, "tasks")) for d in _django.submodule_search_locations or ()
):
    INSTALLED_APPS.append("django_tasks")
DATABASES = {"default": dj_database_url.parse(_db_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SCHEDULER = {
    "BROKER_URL": os.environ.get("TASKCTL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    "QUEUES": {"default": {}, "high": {}, "low": {}},
    # The suite's tests write to the broker inside pytest-django's transactions and look at once;
    # the default (on) is tested by tests/test_django_code.py and tests/test_django_testing.py.
    "ENQUEUE_ON_COMMIT": False,
}
# Django's tasks framework on taskctl (tests/test_django_tasks.py, tests/dtasks.py).
TASKS = {
    "default": {"BACKEND": "scheduler_core.backend.TaskctlBackend"},
    "retrying": {
        "BACKEND": "scheduler_core.backend.TaskctlBackend",
        "QUEUES": ["default"],
        "OPTIONS": {"RETRIES": 2, "RETRY_BACKOFF": [0]},
    },
}
# Process tests start real workers / schedulers: they pass the test's prefix and fast timings here.
for _env, _key in (
    ("TASKCTL_KEY_PREFIX", "KEY_PREFIX"),
    ("TASKCTL_LEASE_TTL", "LEASE_TTL"),
    ("TASKCTL_HEARTBEAT_INTERVAL", "HEARTBEAT_INTERVAL"),
    ("TASKCTL_SCHEDULER_LOCK_TTL", "SCHEDULER_LOCK_TTL"),
    ("TASKCTL_SCHEDULER_INTERVAL", "SCHEDULER_INTERVAL"),
    ("TASKCTL_MAX_RESULT_BYTES", "MAX_RESULT_BYTES"),
):
    if os.environ.get(_env):
        SCHEDULER[_key] = os.environ[_env]
if os.environ.get("TASKCTL_ALLOWED_CALLABLES"):  # process tests of the ALLOWED_CALLABLES guard
    SCHEDULER["ALLOWED_CALLABLES"] = os.environ["TASKCTL_ALLOWED_CALLABLES"].split(",")
# Enough for the admin (checks run on migrate); taskctl itself serves no pages.
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
ROOT_URLCONF = "tests.urls"
