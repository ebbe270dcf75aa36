"""Django admin: one page for all task types, and a read-only list of manifest sets.

A task's page also shows its next 10 fires (DST shifts marked, as `tasks next`), its recent runs
linked to their jobs, a "Run now" button, and, for a row the scheduler quarantined, why.

Edits made here reach the broker through `replan.tasks_changed`, called only after the
transaction commits (by Task's signals for saves and deletes, explicitly for the bulk actions).
A task owned by a set says so: the next `taskctl tasks apply` of that set puts the manifest's
values back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from scheduler_core.console.task_runs import recent_runs
from scheduler_core.errors import TaskctlError
from scheduler_core.models import TYPE_FIELDS, Task, TaskSet, TaskType
from scheduler_core.scheduler.upcoming import run_now, upcoming
from scheduler_core.tasks import replan
from scheduler_core.tasks.schedules import describe_schedule

if TYPE_CHECKING:  # ModelAdmin is generic for the type checker only (no django_stubs_ext at runtime)
    TaskAdminBase = admin.ModelAdmin[Task]
    TaskSetAdminBase = admin.ModelAdmin[TaskSet]
else:
    TaskAdminBase = TaskSetAdminBase = admin.ModelAdmin

SCHEDULE_FIELDS = ("cron", "timezone", "interval", "repeat", "at")
STATUS_FIELDS = (
    "next_run_at",
    "last_run_at",
    "last_status",
    "invalid_reason",
    "run_count",
    "success_count",
    "failure_count",
    "occurrences",
    "pending_job_id",
    "spec_hash",
    "created_at",
    "updated_at",
)


def _after_commit(task_ids: list[int], deleted: list[tuple[int, str, str]] | None = None) -> None:
    if task_ids or deleted:
        transaction.on_commit(lambda: replan.tasks_changed(task_ids, deleted=deleted or ()))


def ownership_text(task: Task) -> str:
    if task.task_set_id is None:
        return "Made by hand (no manifest set owns this task)."
    return (
        f"Owned by set {task.task_set.name!r}: the next `taskctl tasks apply` of that set "  # type: ignore[union-attr]
        "overwrites edits made here."
    )


@admin.register(Task)
class TaskAdmin(TaskAdminBase):
    list_display = (
        "name",
        "type",
        "schedule",
        "queue",
        "enabled",
        "status",  # before the times: a quarantine reason must be in view
        "task_set",
        "next_run_at",
        "last_run_at",
    )
    list_filter = ("type", "queue", "enabled", "task_set")
    search_fields = ("name", "callable", "description")
    list_select_related = ("task_set",)
    readonly_fields = ("ownership", *STATUS_FIELDS)
    actions = ("enable_selected", "disable_selected")
    ordering = ("name",)
    change_form_template = "admin/scheduler_core/task/change_form.html"

    @admin.display(description="last status", ordering="last_status")
    def status(self, obj: Task) -> str:
        if obj.last_status == "invalid":
            return f"invalid: {obj.invalid_reason}" if obj.invalid_reason else "invalid"
        return obj.last_status or "-"

    def get_urls(self) -> list[URLPattern]:
        run = path(
            "<path:object_id>/run/",
            self.admin_site.admin_view(self.run_now_view),
            name="scheduler_core_task_run",
        )
        return [run, *super().get_urls()]

    def run_now_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Asks, then enqueues one run now outside the schedule (POST, change permission)."""
        task = self.get_object(request, object_id)
        if task is None:
            raise Http404("no such task")
        if not self.has_change_permission(request, task):
            raise PermissionDenied
        back = reverse("admin:scheduler_core_task_change", args=(task.pk,))
        if request.method != "POST" or request.POST.get("confirm") != "yes":
            ctx = {
                **self.admin_site.each_context(request), "title": f"Run {task.name} now", "opts": self.opts,
                "question": f"Enqueue one run of {task.name!r} on queue {task.queue!r} now? "
                "Its planned runs stay as they are.",
                "items": [], "fields": [], "back": back, "button": "Yes, run it now",
            }  # fmt: skip
            return TemplateResponse(request, "admin/scheduler_core/confirm.html", ctx)
        try:
            job = run_now(task.name)
        except TaskctlError as exc:
            self.message_user(request, f"Not run: {exc}", messages.ERROR)
            return HttpResponseRedirect(back)
        link = reverse("admin:scheduler_core_job_detail", args=(job.queue, job.id))
        self.message_user(request, f"Enqueued job {job.id} on {job.queue} (see {link}).", messages.SUCCESS)
        return HttpResponseRedirect(link)

    def get_fieldsets(self, request: HttpRequest, obj: Task | None = None) -> Any:
        # An existing task shows only its own type's schedule fields; the add form shows them all.
        schedule = (
            SCHEDULE_FIELDS
            if obj is None
            else tuple(f for f in SCHEDULE_FIELDS if f in TYPE_FIELDS[TaskType(obj.type)])
        )
        return (
            (
                None,
                {
                    "fields": (
                        "name",
                        "type",
                        "callable",
                        "args",
                        "kwargs",
                        "queue",
                        "enabled",
                        "description",
                        "ownership",
                    )
                },
            ),
            (
                "Schedule",
                {
                    "fields": schedule,
                    "description": "Times are stored in UTC; cron runs in the task's timezone.",
                },
            ),
            (
                "Execution",
                {
                    "fields": (
                        ("timeout", "result_ttl", "failure_ttl"),
                        "at_front",
                        ("retry_max", "retry_backoff"),
                        ("on_success", "on_failure", "on_stopped"),
                        ("misfire", "overlap"),
                    )
                },
            ),
            ("Status (read-only)", {"fields": STATUS_FIELDS, "classes": ("collapse",)}),
        )

    @admin.display(description="schedule")
    def schedule(self, obj: Task) -> str:
        return describe_schedule(
            obj.type,
            cron=obj.cron,
            tz_name=obj.effective_timezone(),
            interval=obj.interval,
            repeat=obj.repeat,
            at=obj.at,
        )

    @admin.display(description="owner")
    def ownership(self, obj: Task) -> str:
        return ownership_text(obj) if obj.pk else "Made by hand."

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        task = self.get_object(request, object_id)
        if task is not None and request.method == "GET":
            if task.task_set_id is not None:
                messages.warning(request, ownership_text(task))
            if task.last_status == "invalid":
                why = task.invalid_reason or "no reason recorded"
                messages.error(request, f"Quarantined: the scheduler does not plan this task: {why}")
            extra_context = {**(extra_context or {}), **_task_extras(request, task)}
        return super().change_view(request, object_id, form_url, extra_context)

    # save_model / delete_model / delete_queryset need nothing here: Task's post_save and
    # post_delete signals (replan.connect_signals) call tasks_changed after the commit.

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[Task], enabled: bool) -> None:
        with transaction.atomic():
            changing = queryset.exclude(enabled=enabled)
            ids = list(changing.values_list("pk", flat=True))
            Task.objects.filter(pk__in=ids).update(enabled=enabled)
            # update() skips save(): keep spec_hash in step with the new spec, or apply would
            # think the task unchanged.
            for task in Task.objects.filter(pk__in=ids):
                Task.objects.filter(pk=task.pk).update(spec_hash=task.compute_spec_hash())
            _after_commit(ids)
        verb = "enabled" if enabled else "disabled"
        self.message_user(request, f"{len(ids)} task(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Enable selected tasks")
    def enable_selected(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected tasks")
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_enabled(request, queryset, False)


def _task_extras(request: HttpRequest, task: Task) -> dict[str, Any]:
    """The task page's extra panels: next fires and recent runs (a broker or schedule problem
    is said in the panel; the form still loads)."""
    out: dict[str, Any] = {"next_fires": [], "next_error": "", "runs": [], "runs_error": ""}
    try:
        out["next_fires"] = upcoming(task.name, 10)["occurrences"]
    except (TaskctlError, ValueError) as exc:
        out["next_error"] = str(exc)
    try:
        runs = recent_runs(task.pk, task.queue)
    except TaskctlError as exc:
        out["runs_error"] = str(exc)
    else:
        for r in runs:
            r["url"] = reverse("admin:scheduler_core_job_detail", args=(r["queue"], r["id"]))
        out["runs"] = runs
    out["run_now_url"] = reverse("admin:scheduler_core_task_run", args=(task.pk,))
    return out


@admin.register(TaskSet)
class TaskSetAdmin(TaskSetAdminBase):
    """Sets are made by `taskctl tasks apply`; here they are only listed."""

    list_display = ("name", "task_count", "created_at", "applied_at")
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaskSet]:
        return super().get_queryset(request).annotate(n_tasks=Count("tasks"))

    @admin.display(description="tasks", ordering="n_tasks")
    def task_count(self, obj: TaskSet) -> int:
        return int(getattr(obj, "n_tasks", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TaskSet | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TaskSet | None = None) -> bool:
        return False
