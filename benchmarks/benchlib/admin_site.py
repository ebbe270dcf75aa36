"""Settings and URLs for the admin_queues_page scenario: taskctl's built-in settings (from the
environment, as the other scenarios use them) plus the Django admin, as a site would have it."""

from __future__ import annotations

from typing import Any

from taskctl.settings import *  # noqa: F403
from taskctl.settings import INSTALLED_APPS as _BASE_APPS

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    *_BASE_APPS,
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES: list[dict[str, Any]] = [
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
ROOT_URLCONF = "benchlib.admin_urls"
ALLOWED_HOSTS = ["*"]
