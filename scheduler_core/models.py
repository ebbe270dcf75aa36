"""The one source of truth: a Task (ONCE, REPEATABLE or CRON) and the set that owns it.

Spec (what the operator declares) and status (what the scheduler observed) are kept apart:
only spec fields enter `spec_hash`, `export` and the manifest plan.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from scheduler_core.callables import resolve
from scheduler_core.conf import get_config
from scheduler_core.errors import TaskctlError
from scheduler_core.names import name_problem
from scheduler_core.tasks.row import task_zone
from scheduler_core.tasks.schedules import next_occurrences, validate_cron, zone


class TaskType(models.TextChoices):
    ONCE = "once", "Once"
    REPEATABLE = "repeatable", "Repeatable"
    CRON = "cron", "Cron"


class Misfire(models.TextChoices):
    SKIP = "skip", "Skip missed runs"
    RUN_ONCE = "run_once", "Run once to catch up"


class Overlap(models.TextChoices):
    ALLOW = "allow", "Allow"
    SKIP = "skip", "Skip while the previous run is queued or active"


class TaskSet(models.Model):
    """A manifest's `set`: apply and prune only ever touch the tasks it owns."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Fields that make up a task's spec, in manifest order. Everything else is status or bookkeeping.
SPEC_FIELDS: tuple[str, ...] = (
    "type",
    "callable",
    "args",
    "kwargs",
    "queue",
    "enabled",
    "cron",
    "timezone",
    "interval",
    "repeat",
    "at",
    "timeout",
    "result_ttl",
    "failure_ttl",
    "at_front",
    "on_success",
    "on_failure",
    "on_stopped",
    "retry_max",
    "retry_backoff",
    "misfire",
    "overlap",
    "description",
)

TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    TaskType.ONCE: ("at",),
    TaskType.REPEATABLE: ("interval", "repeat", "at"),
    TaskType.CRON: ("cron", "timezone"),
}


STATUS_FIELDS = (
    "next_run_at",
    "pending_job_id",
    "occurrences",
    "last_run_at",
    "last_status",
    "run_count",
    "success_count",
    "failure_count",
    "invalid_reason",
)  # what the scheduler and the workers observe; never part of the spec


class Task(models.Model):
    # --- spec ---
    name = models.CharField(max_length=200, unique=True)
    type = models.CharField(max_length=16, choices=TaskType.choices)
    callable = models.CharField(max_length=1024, help_text="Dotted path, e.g. myapp.jobs.send_report")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=200, default="default")
    enabled = models.BooleanField(default=True)
    cron = models.CharField(max_length=200, blank=True, default="", help_text="CRON: 5 fields")
    timezone = models.CharField(
        max_length=64, blank=True, default="", help_text="CRON: IANA zone; blank = settings TIME_ZONE"
    )
    interval = models.PositiveIntegerField(null=True, blank=True, help_text="REPEATABLE: seconds")
    repeat = models.PositiveIntegerField(
        null=True, blank=True, help_text="REPEATABLE: total runs; blank = forever"
    )
    at = models.DateTimeField(null=True, blank=True, help_text="ONCE: run time; REPEATABLE: first run")
    timeout = models.PositiveIntegerField(null=True, blank=True, help_text="seconds; blank = default")
    result_ttl = models.IntegerField(null=True, blank=True, help_text="seconds a result is kept")
    failure_ttl = models.IntegerField(null=True, blank=True, help_text="seconds a failure is kept")
    at_front = models.BooleanField(default=False)
    on_success = models.CharField(max_length=1024, blank=True, default="")
    on_failure = models.CharField(max_length=1024, blank=True, default="")
    on_stopped = models.CharField(max_length=1024, blank=True, default="")
    retry_max = models.PositiveSmallIntegerField(default=0)
    retry_backoff = models.JSONField(default=list, blank=True, help_text="seconds between attempts")
    misfire = models.CharField(max_length=16, choices=Misfire.choices, default=Misfire.RUN_ONCE)
    overlap = models.CharField(max_length=16, choices=Overlap.choices, default=Overlap.ALLOW)
    description = models.TextField(blank=True, default="")
    task_set = models.ForeignKey(
        TaskSet,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
        help_text="The manifest set that owns this task; blank = made by hand",
    )
    spec_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # --- status (never part of the spec) ---
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    pending_job_id = models.CharField(max_length=255, blank=True, default="", editable=False)
    occurrences = models.PositiveIntegerField(default=0, editable=False, help_text="occurrences planned")
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_status = models.CharField(max_length=16, blank=True, default="", editable=False)
    run_count = models.PositiveIntegerField(default=0, editable=False)
    success_count = models.PositiveIntegerField(default=0, editable=False)
    failure_count = models.PositiveIntegerField(default=0, editable=False)
    # Why the scheduler quarantined this row (last_status "invalid"); empty when it plans normally.
    invalid_reason = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="task_due_idx")]

    def __str__(self) -> str:
        return self.name

    # --- spec helpers ---
    def spec(self) -> dict[str, Any]:
        """The spec as plain JSON-able data (times as ISO strings)."""
        out: dict[str, Any] = {}
        for f in SPEC_FIELDS:
            v = getattr(self, f)
            if isinstance(v, datetime):
                v = v.astimezone(UTC).isoformat().replace("+00:00", "Z")
            out[f] = v
        return out

    def compute_spec_hash(self) -> str:
        blob = json.dumps(self.spec(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def effective_timezone(self) -> str:
        return task_zone(self.timezone)

    def next_occurrences(self, after: datetime, count: int = 1) -> list[datetime]:
        """The next `count` planned run times strictly after `after` (schedule only, not status)."""
        return next_occurrences(
            self.type,
            after=after,
            count=count,
            cron=self.cron,
            tz_name=self.effective_timezone(),
            at=self.at or self.created_at,
            interval=self.interval,
            repeat=self.repeat,
        )

    # --- validation ---
    def clean(self) -> None:
        errors: dict[str, str] = {}
        if isinstance(self.name, str) and self.name and (problem := name_problem(self.name)):
            errors["name"] = f"name {problem}"
        try:
            kind = TaskType(self.type)
        except ValueError:
            if errors:
                raise ValidationError(errors) from None
            return  # clean_fields already reports a type outside the choices: one message per field
        for other, fields in TYPE_FIELDS.items():
            if other == kind:
                continue
            for f in fields:
                if f in TYPE_FIELDS[kind]:
                    continue
                if getattr(self, f) not in (None, ""):
                    errors[f] = f"{f} does not apply to a {kind.value} task"
        errors.update(validate_schedule(self))
        errors.update(validate_runtime(self))
        if errors:
            raise ValidationError(errors)

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Task:
        task = super().from_db(db, field_names, values, **kwargs)
        task._loaded_status = {f: task.__dict__[f] for f in STATUS_FIELDS if f in task.__dict__}
        return task

    def save(self, *args: Any, validate: bool = True, **kwargs: Any) -> None:
        """Status fields belong to the scheduler and the workers, which update them in place: a save
        of a task loaded a while ago (the admin's, say) writes its spec, and only the status fields
        this instance itself changed, so it never rolls back a run recorded in the meantime.

        A save that writes spec fields validates first, as the admin form does (`full_clean`:
        one ValidationError message per bad field), so that a bad cron is never saved enabled
        and silent. `validate=False` opts out, explicitly (fixtures, a data migration that knows
        better); the scheduler then quarantines what does not hold (scheduler/quarantine.py)."""
        update_fields = kwargs.get("update_fields")
        status_only = update_fields is not None and set(update_fields) <= {*STATUS_FIELDS, "updated_at"}
        if validate and not status_only:
            self.full_clean()
        self.spec_hash = self.compute_spec_hash()
        loaded: dict[str, Any] | None = getattr(self, "_loaded_status", None)
        plain_update = not args and not self._state.adding and not kwargs.get("force_insert")
        whole_row = kwargs.get("update_fields") is None and not self.get_deferred_fields()
        if plain_update and loaded is not None and whole_row:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and (f.name not in loaded or getattr(self, f.name) != loaded[f.name])
            ]
        super().save(*args, **kwargs)
        self._loaded_status = {f: self.__dict__[f] for f in STATUS_FIELDS if f in self.__dict__}


def validate_schedule(task: Task) -> dict[str, str]:
    errors: dict[str, str] = {}
    if task.type == TaskType.CRON:
        if not task.cron:
            errors["cron"] = "a cron task needs a cron expression"
        else:
            try:
                validate_cron(task.cron)
            except TaskctlError as exc:
                errors["cron"] = str(exc)
        if task.timezone:
            try:
                zone(task.timezone)
            except TaskctlError as exc:
                errors["timezone"] = str(exc)
    elif task.type == TaskType.REPEATABLE:
        # Negative values are left to the PositiveIntegerField validators (one message per field).
        if task.interval is None or task.interval == 0:
            errors["interval"] = "a repeatable task needs an interval > 0 seconds"
        if task.repeat == 0:
            errors["repeat"] = "repeat must be >= 1 (omit it to repeat forever)"
    elif task.type == TaskType.ONCE and task.at is None:
        errors["at"] = "a once task needs `at`"
    if not isinstance(task.retry_backoff, list) or not all(
        isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in task.retry_backoff
    ):
        errors["retry_backoff"] = "retry_backoff must be a list of seconds >= 0"
    return errors


def validate_runtime(task: Task) -> dict[str, str]:
    """Checks against settings and code: the callable imports and is allowed, the queue exists."""
    errors: dict[str, str] = {}
    config = get_config()
    for f in ("callable", "on_success", "on_failure", "on_stopped"):
        path = getattr(task, f)
        if not path:
            continue
        try:
            resolve(path, config.allowed_callables)
        except TaskctlError as exc:
            errors[f] = str(exc)
    try:
        config.queue(task.queue)
    except TaskctlError as exc:
        errors["queue"] = str(exc)
    if not isinstance(task.args, list):
        errors["args"] = "args must be a list"
    if not isinstance(task.kwargs, dict):
        errors["kwargs"] = "kwargs must be a mapping"
    for f in ("result_ttl", "failure_ttl"):
        value = getattr(task, f)
        if value is not None and value < -1:
            errors[f] = "seconds to keep (0: not at all), or -1 to keep forever"
    return errors


# The admin's operations pages (Queues, Jobs, Workers): unmanaged models, no tables.
from scheduler_core.console_models import Job as Job  # noqa: E402
from scheduler_core.console_models import Queue as Queue  # noqa: E402
from scheduler_core.console_models import Worker as Worker  # noqa: E402
