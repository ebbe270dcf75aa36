"""The Workers page: every live worker (name, host, pid, queues, state, current jobs, counts,
heartbeat age) and the commands it takes: suspend, resume, warm stop, cold stop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from scheduler_core.admin.base import ConsoleAdmin, confirmed
from scheduler_core.conf import get_config
from scheduler_core.errors import NotFound
from scheduler_core.inspect import broker_errors
from scheduler_core.models import Worker
from scheduler_core.queues.queue import get_queue
from scheduler_core.worker import control

# action -> (label, what the confirmation page says it does)
COMMANDS: dict[str, tuple[str, str]] = {
    "suspend": ("Suspend", "takes no new jobs until resumed; running jobs finish"),
    "resume": ("Resume", "takes jobs again"),
    "stop": ("Warm stop", "takes no new jobs, finishes the running ones, then exits"),
    "stop_now": ("Cold stop", "stops its running jobs now (recorded as stopped) and exits"),
}


def _send(action: str, name: str) -> None:
    if action == "suspend":
        control.suspend_worker(name)
    elif action == "resume":
        control.resume_worker(name)
    else:
        control.stop_worker(name, now=action == "stop_now")


def _current_job_queue(worker: dict[str, Any]) -> str:
    queues = worker.get("queues") or ["default"]
    return str(queues[0])


@admin.register(Worker)
class WorkerAdmin(ConsoleAdmin):
    def console_urls(self) -> list[tuple[str, Callable[..., HttpResponse], str]]:
        return [("", self.workers_view, "changelist")]

    def workers_view(self, request: HttpRequest) -> HttpResponse:
        self.require_view(request)
        here = reverse("admin:scheduler_core_worker_changelist")
        if request.method == "POST":
            self.require_change(request)
            action, name = request.POST.get("action", ""), request.POST.get("worker", "")
            if action not in COMMANDS or not name:
                messages.error(request, "Choose a worker and a command.")
                return HttpResponseRedirect(here)
            label, effect = COMMANDS[action]
            if not confirmed(request):
                return self.confirm(
                    request, title=f"{label} worker {name}", button=f"Yes, {label.lower()}",
                    question=f"{label} worker {name!r}? It {effect}.", items=[],
                    fields=[("action", action), ("worker", name)], back=here,
                )  # fmt: skip
            try:
                with broker_errors():
                    _send(action, name)
            except NotFound as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"{label}: sent to {name}.")
            return HttpResponseRedirect(here)

        with broker_errors(get_config().broker_url):
            workers = control.list_workers()
        now = time.time()
        rows = []
        for w in workers:
            beat = w["last_heartbeat"]
            jobs = [(j, _job_link(w, j)) for j in w["current_jobs"]]
            rows.append({**w, "heartbeat_age": now - beat.timestamp() if beat else None, "jobs": jobs})
        return self.render(request, "workers.html", "Workers", rows=rows, commands=COMMANDS)


def _job_link(worker: dict[str, Any], job_id: str) -> str:
    """The job page of a running job: found in the first of the worker's queues that has it."""
    for qname in worker.get("queues") or []:
        try:
            if get_queue(qname).fetch_job(job_id) is not None:
                return reverse("admin:scheduler_core_job_detail", args=(qname, job_id))
        except NotFound:
            continue
    return reverse("admin:scheduler_core_job_detail", args=(_current_job_queue(worker), job_id))
