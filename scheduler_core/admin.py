"""Django admin: one page for all task types, and a read-only list of manifest sets.

Edits made here reach the broker through `replan.tasks_changed`, called only after the
transaction commits (by Task's signals for saves and deletes, explicitly for the bulk actions).
A task owned by a set says so: the next `taskctl tasks apply` of that set puts the manifest's
values back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse

from scheduler_core.models import TYPE_FIELDS, Task, TaskSet, TaskType
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
        "task_set",
        "next_run_at",
        "last_run_at",
        "last_status",
    )
    list_filter = ("type", "queue", "enabled", "task_set")
    search_fields = ("name", "callable", "description")
    list_select_related = ("task_set",)
    readonly_fields = ("ownership", *STATUS_FIELDS)
    actions = ("enable_selected", "disable_selected")
    ordering = ("name",)

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
        if task is not None and task.task_set_id is not None and request.method == "GET":
            messages.warning(request, ownership_text(task))
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
