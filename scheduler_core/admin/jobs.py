"""A registry's job list (paginated, filters, search by id, bulk actions) and the job page.
Reached from the Queues page; not listed in the admin index. Actions ask on a confirmation page
first and need a change permission (see admin.base)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from scheduler_core.admin.base import ConsoleAdmin, confirmed, posted_ids
from scheduler_core.admin.queues import registry_url
from scheduler_core.conf import get_config
from scheduler_core.console import registry as reg
from scheduler_core.console.registry import Filters
from scheduler_core.errors import NotFound
from scheduler_core.inspect import job_detail
from scheduler_core.models import Job, Task
from scheduler_core.queues.queue import get_queue

_DONE = {"requeue": "requeued", "cancel": "canceled", "stop": "asked to stop", "delete": "deleted"}


def job_url(queue: str, job_id: str) -> str:
    return reverse("admin:scheduler_core_job_detail", args=(queue, job_id))


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _filters(request: HttpRequest) -> tuple[Any, str]:
    """The page's filters from the query string, and the task's name when one was given."""
    task = request.GET.get("task", "").strip()
    task_id = None
    if task:
        found = Task.objects.filter(name=task).values_list("pk", flat=True).first()
        task_id = found if found is not None else -1  # an unknown task matches nothing
    return Filters(callable=request.GET.get("callable", "").strip(), task_id=task_id), task


@admin.register(Job)
class JobAdmin(ConsoleAdmin):
    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        return dict.fromkeys(("add", "change", "delete", "view"), False)  # reached from Queues only

    def console_urls(self) -> list[tuple[str, Callable[..., HttpResponse], str]]:
        return [
            ("", self.registry_view, "changelist"),
            ("<str:queue>/<path:job_id>/", self.job_view, "detail"),
        ]

    # ----- a registry's jobs -----
    def registry_view(self, request: HttpRequest) -> HttpResponse:
        self.require_view(request)
        queue = request.GET.get("queue", "")
        registry = request.GET.get("registry", "")
        if queue not in get_config().queues or registry not in reg.ACTIONS:
            return HttpResponseRedirect(reverse("admin:scheduler_core_queue_changelist"))
        back = registry_url(queue, registry)
        if request.method == "POST":
            return self._registry_post(request, queue, registry, back)
        search = request.GET.get("q", "").strip()
        if search:
            return self._search(request, queue, registry, search)
        limit = _int(request.GET.get("limit"), 50)
        limit = limit if limit in reg.PAGE_SIZES else 50
        filters, task = _filters(request)
        page = reg.registry_page(queue, registry, offset=_int(request.GET.get("offset"), 0), limit=limit,
                                 filters=filters)  # fmt: skip
        keep = {k: v for k, v in (("callable", filters.callable), ("task", task), ("limit", str(limit))) if v}
        here = {"queue": queue, "registry": registry, **keep}
        nav = {
            "first": "?" + urlencode(here) if page.offset else "",
            "next": "" if page.next_offset is None else "?" + urlencode({**here, "offset": page.next_offset}),
        }
        rows = [{**j, "url": job_url(queue, j["id"])} for j in page.jobs]
        return self.render(
            request, "registry.html", f"{queue}: {registry} jobs", page=page, rows=rows, nav=nav,
            filters=filters, task=task, labels=reg.ACTION_LABELS, page_sizes=reg.PAGE_SIZES,
            queues_url=reverse("admin:scheduler_core_queue_changelist"), scan_limit=reg.SCAN_LIMIT,
        )  # fmt: skip

    def _search(self, request: HttpRequest, queue: str, registry: str, job_id: str) -> HttpResponse:
        try:
            job_detail(job_id, queue, name_of_task=lambda _: None)
        except NotFound:
            messages.warning(request, f"No job {job_id!r} in queue {queue!r}.")
            return HttpResponseRedirect(registry_url(queue, registry))
        return HttpResponseRedirect(job_url(queue, job_id))

    def _registry_post(self, request: HttpRequest, queue: str, registry: str, back: str) -> HttpResponse:
        self.require_change(request)
        whole = request.POST.get("whole_action", "")
        if whole:
            if whole not in reg.WHOLE_ACTIONS[registry]:
                messages.error(request, f"{whole!r} does not apply to the {registry} registry.")
                return HttpResponseRedirect(back)
            if not confirmed(request):
                label = reg.ACTION_LABELS[whole]
                return self.confirm(
                    request, title=f"{label}: {queue} {registry}", button=f"Yes, {label.lower()}",
                    question=f"{label}: every job in the {registry} registry of queue {queue!r} "
                    + ("goes back to the queue." if whole == "requeue_all" else "is deleted."),
                    items=[], fields=[("whole_action", whole)], back=back,
                )  # fmt: skip
            n = reg.act_on_registry(whole, queue, registry)
            done = "requeued" if whole == "requeue_all" else "deleted"
            messages.success(request, f"{n} job(s) {done} from {queue} {registry}.")
            return HttpResponseRedirect(back)
        action = request.POST.get("action", "")
        ids = posted_ids(request)
        if action not in reg.ACTIONS[registry]:
            messages.error(request, "Choose an action that applies to this registry.")
            return HttpResponseRedirect(back)
        if not ids:
            messages.warning(request, "Select the jobs to act on first.")
            return HttpResponseRedirect(back)
        if not confirmed(request):
            label = reg.ACTION_LABELS[action]
            return self.confirm(
                request, title=f"{label} {len(ids)} job(s)", button=f"Yes, {label.lower()} them",
                question=f"{label} these {len(ids)} job(s) of queue {queue!r} ({registry})?", items=ids,
                fields=[("action", action), *(("_selected_action", i) for i in ids)], back=back,
            )  # fmt: skip
        self._report(request, action, reg.act_on_jobs(action, queue, ids))
        return HttpResponseRedirect(back)

    def _report(self, request: HttpRequest, action: str, outcome: Any) -> None:
        verb = _DONE[action]
        if outcome.done:
            messages.success(request, f"{len(outcome.done)} job(s) {verb}.")
        for job_id, why in outcome.skipped:
            messages.warning(request, f"{job_id}: skipped: {why}")

    # ----- one job -----
    def job_view(self, request: HttpRequest, queue: str, job_id: str) -> HttpResponse:
        self.require_view(request)
        if queue not in get_config().queues:
            raise Http404(f"no queue {queue!r}")
        here = job_url(queue, job_id)
        if request.method == "POST":
            self.require_change(request)
            action = request.POST.get("action", "")
            if action not in reg.ACTION_LABELS or action in reg.WHOLE_ACTIONS["failed"]:
                messages.error(request, f"Unknown action {action!r}.")
                return HttpResponseRedirect(here)
            if not confirmed(request):
                label = reg.ACTION_LABELS[action]
                return self.confirm(
                    request, title=f"{label} job {job_id}", button=f"Yes, {label.lower()} it",
                    question=f"{label} this job of queue {queue!r}?", items=[job_id],
                    fields=[("action", action)], back=here,
                )  # fmt: skip
            self._report(request, action, reg.act_on_jobs(action, queue, [job_id]))
            if action == "delete":
                return HttpResponseRedirect(reverse("admin:scheduler_core_queue_changelist"))
            return HttpResponseRedirect(here)
        try:
            job = job_detail(job_id, queue)
            # the earlier attempts are not part of `jobs show`'s shape: read from the record here
            job["history"] = get_queue(queue).fetch_job(job_id).history  # type: ignore[union-attr]
        except (NotFound, AttributeError):
            raise Http404(f"no job {job_id!r} in queue {queue!r}") from None
        registry = job["registry"]
        task_link = None
        if job["task_id"] is not None and job["task"] is not None:
            task_link = reverse("admin:scheduler_core_task_change", args=(job["task_id"],))
        worker_link = reverse("admin:scheduler_core_worker_changelist") if job["worker"] else None
        actions = [(a, reg.ACTION_LABELS[a]) for a in reg.ACTIONS.get(registry or "", ())]
        return self.render(
            request, "job.html", f"Job {job_id}", job=job, registry=registry, actions=actions,
            task_link=task_link, worker_link=worker_link, history=_history(job),
            registry_link=registry_url(queue, registry) if registry else None,
            args_json=_pretty(job["args"]), kwargs_json=_pretty(job["kwargs"]),
            meta_json=_pretty(job["meta"]), result_json=_pretty(job["result"]),
        )  # fmt: skip


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _history(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Every attempt: the earlier ones from the record's history (an attempt retried after its
    worker was lost has no entry there), then the latest with its times and outcome."""

    def when(ts: float | None) -> datetime | None:
        return datetime.fromtimestamp(ts, UTC) if ts else None

    known = {h["attempt"]: h for h in job["history"] if isinstance(h, dict) and "attempt" in h}
    rows: list[dict[str, Any]] = []
    for n in range(1, job["attempt"]):
        h = known.get(n)
        if h is None:
            rows.append({"n": n, "note": "retried (no details kept)"})
        else:
            error = f"{h.get('exc_type') or 'failed'}: {h.get('exc_message') or ''}".rstrip(": ")
            rows.append({"n": n, "started_at": when(h.get("started_at")), "ended_at": when(h.get("ended_at")),
                         "note": f"{error}; retried"})  # fmt: skip
    last = job["exc_type"] and f"{job['exc_type']}: {job['exc_message'] or ''}"
    rows.append({
        "n": job["attempt"], "started_at": job["started_at"], "ended_at": job["ended_at"],
        "note": last or job["status"],
    })  # fmt: skip
    return rows
