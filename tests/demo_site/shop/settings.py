"""A small Django site that uses taskctl the way an application does: its own app and models,
ATOMIC_REQUESTS, jobs enqueued from views, and a test suite (manage.py test and pytest-django).

SHOP_DATABASE_URL picks the database (SQLite in a temporary directory by default, or
postgres://...); TASKCTL_TEST_REDIS_URL the broker.
"""

from __future__ import annotations

import os
import tempfile

import dj_database_url

SECRET_KEY = "demo-shop"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "scheduler_core",
    "orders",
]
_db_url = (
    os.environ.get("SHOP_DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/taskctl-demo-shop.sqlite3"
)
DATABASES = {"default": dj_database_url.parse(_db_url)}
DATABASES["default"]["ATOMIC_REQUESTS"] = True  # a view's writes and its enqueues commit together
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SHOP_TEST_DATABASE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "shop.urls"
MIDDLEWARE: list[str] = []

SCHEDULER = {
    "BROKER_URL": os.environ.get("TASKCTL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    "QUEUES": {"default": {}, "mail": {}},
    "KEY_PREFIX": "shop",
    "ALLOWED_CALLABLES": ["orders.jobs"],  # only the shop's jobs can run
    # ENQUEUE_ON_COMMIT is on by default: the invoice job never runs before its order is committed
}
# manage.py test: the whole run under a key prefix of its own ("shop-test-..."), cleaned up after
TEST_RUNNER = "scheduler_core.testing.runner.TestRunner"
