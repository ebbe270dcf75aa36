"""The Queues page: a row per queue with its registry counts (each a link to that registry's
jobs), workers, oldest queued age and broker, and the leader scheduler. Read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from scheduler_core.admin.base import ConsoleAdmin
from scheduler_core.broker.keys import REGISTRIES
from scheduler_core.console.overview import queue_overview
from scheduler_core.models import Queue


def registry_url(queue: str, registry: str) -> str:
    query = urlencode({"queue": queue, "registry": registry})
    return reverse("admin:scheduler_core_job_changelist") + "?" + query


@admin.register(Queue)
class QueueAdmin(ConsoleAdmin):
    def console_urls(self) -> list[tuple[str, Callable[..., HttpResponse], str]]:
        return [("", self.queues_view, "changelist")]

    def queues_view(self, request: HttpRequest) -> HttpResponse:
        self.require_view(request)
        overview = queue_overview()
        rows: list[dict[str, Any]] = []
        for q in overview.queues:
            cells = [(reg, q[reg], registry_url(q["name"], reg)) for reg in REGISTRIES]
            rows.append({**q, "cells": cells})
        return self.render(request, "queues.html", "Queues", rows=rows, registries=REGISTRIES,
                           overview=overview)  # fmt: skip
