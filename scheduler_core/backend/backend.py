"""`TaskctlBackend`: Django's tasks framework (`django.tasks`, or the `django-tasks` backport) on
taskctl queues and workers. A task enqueued here is a taskctl job like any other: `jobs list/show`,
`queues show`, workers, retries, callbacks and the admin see it.

    TASKS = {"default": {"BACKEND": "scheduler_core.backend.TaskctlBackend",
                         "QUEUES": ["default", "high"],          # taskctl queues (SCHEDULER)
                         "OPTIONS": {"RETRIES": 3, "RETRY_BACKOFF": [10, 60]}}}

Priority: a positive priority enqueues at the front of the queue (taskctl's `at_front`), 0 at the
back; a negative one is refused (taskctl has no position behind the back of a queue).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from scheduler_core.backend.compat import (
    DEFAULT_TASK_PRIORITY,
    AnyResult,
    AnyTask,
    BaseTaskBackend,
    InvalidTask,
    Task,
    TaskResultDoesNotExist,
)
from scheduler_core.backend.enqueued import send_enqueued
from scheduler_core.backend.options import BackendOptions, parse_options
from scheduler_core.backend.ready import ready_result
from scheduler_core.backend.results import to_result
from scheduler_core.conf import get_config
from scheduler_core.errors import NotFound, NotSerializable
from scheduler_core.jobs.record import Job
from scheduler_core.queues.queue import JobCall, all_queues, get_queue

META_KEY = "django_task"  # in the job's meta: what get_result needs to rebuild the Task


class TaskctlBackend(BaseTaskBackend):
    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True  # > 0: front of the queue; 0: back; < 0: refused (see the module doc)

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self.settings_queues = "QUEUES" in params  # without it: every taskctl queue
        self.job_options: BackendOptions = parse_options(alias, self.options)
        # What enqueue has validated already, under which SCHEDULER config: Django's checks
        # inspect the function's signature, which would be most of an enqueue's own cost.
        self._valid: set[tuple[Any, ...]] = set()
        self._valid_for: object = None

    # ----- validation -----
    def validate_task(self, task: AnyTask) -> None:
        if self.settings_queues:
            super().validate_task(task)
        else:
            # Django's default QUEUES is ["default"]; here it is the queues taskctl has.
            queues, self.queues = self.queues, set()
            try:
                super().validate_task(task)
            finally:
                self.queues = queues
        if task.priority < DEFAULT_TASK_PRIORITY:
            raise InvalidTask(
                f"priority {task.priority} is not supported by TaskctlBackend: a positive priority runs "
                f"ahead of the queue (at_front), {DEFAULT_TASK_PRIORITY} in order; there is no lower position"
            )
        configured = get_config().queues
        if task.queue_name not in configured:
            known = ", ".join(sorted(configured)) or "none"
            raise InvalidTask(
                f"Queue '{task.queue_name}' is not valid for backend: it is not a taskctl queue "
                f"(SCHEDULER['QUEUES'] has: {known})"
            )

    # ----- enqueue -----
    def _validate_for_enqueue(self, task: AnyTask) -> None:
        """validate_task, once per (function, priority, queue, context) and SCHEDULER config; a
        run_after is checked each time (it varies per call and is not part of the key)."""
        config = get_config()
        if config is not self._valid_for:  # settings changed (tests override them): check again
            self._valid.clear()
            self._valid_for = config
        key = (task.func, task.priority, task.queue_name, task.takes_context)
        if key in self._valid and (task.run_after is None or timezone.is_aware(task.run_after)):
            return
        self.validate_task(task)
        if len(self._valid) > 4096:  # a bound; the key space is the site's tasks, small
            self._valid.clear()
        self._valid.add(key)

    def enqueue(self, task: AnyTask, args: Any, kwargs: Any) -> AnyResult:
        self._validate_for_enqueue(task)
        now = time.time()
        # The result first: building it applies Django's rule (arguments survive a JSON round
        # trip: tuples become lists, bytes text, anything else TypeError) before anything is sent.
        result = ready_result(
            task, os.urandom(16).hex(), datetime.fromtimestamp(now, UTC), args, kwargs, self.alias
        )
        o = self.job_options
        marker: dict[str, Any] = {"backend": self.alias}
        if task.priority != DEFAULT_TASK_PRIORITY:
            marker["priority"] = task.priority
        at: datetime | None = None
        if task.run_after is not None:
            at = task.run_after if timezone.is_aware(task.run_after) else timezone.make_aware(task.run_after)
            marker["run_after"] = task.run_after.isoformat()
        call = JobCall(
            task.module_path, result.args, result.kwargs, job_id=result.id,
            at=at, at_front=task.priority > DEFAULT_TASK_PRIORITY, retry=o.retry,
            timeout=o.timeout, result_ttl=o.result_ttl, failure_ttl=o.failure_ttl,
            meta={META_KEY: marker},
        )  # fmt: skip
        try:
            get_queue(task.queue_name).enqueue_call(call, now=now)
        except NotSerializable as exc:  # what normalize_json lets through but JSON cannot carry (NaN)
            raise TypeError(f"Unsupported value: {exc}") from None
        send_enqueued(type(self), result)
        return result

    # ----- results -----
    def get_result(self, result_id: str) -> AnyResult:
        job = self._find(result_id)
        return to_result(self.task_of(job), job, self.alias)

    def _find(self, result_id: str) -> Job:
        if not isinstance(result_id, str) or not result_id:
            raise TaskResultDoesNotExist(result_id)
        names = sorted(self.queues) if self.settings_queues and self.queues else None
        queues = [get_queue(n) for n in names if n in get_config().queues] if names else all_queues()
        for q in queues:
            try:
                job = q.fetch_job(result_id)
            except NotFound:
                job = None
            if job is not None and META_KEY in job.meta:
                return job
        raise TaskResultDoesNotExist(result_id)

    def task_of(self, job: Job) -> AnyTask:
        """The Task a job runs, as it was enqueued (queue, priority, run_after, backend)."""
        from django.utils.module_loading import import_string

        marker = job.meta.get(META_KEY, {})
        try:
            task = import_string(job.callable)
        except ImportError:
            raise TaskResultDoesNotExist(f"{job.id}: task {job.callable!r} cannot be imported") from None
        if not isinstance(task, Task):
            raise TaskResultDoesNotExist(f"{job.id}: {job.callable!r} is not a task")
        found: AnyTask = task
        run_after = marker.get("run_after")
        return found.using(
            queue_name=job.queue,
            priority=marker.get("priority", DEFAULT_TASK_PRIORITY),
            run_after=datetime.fromisoformat(run_after) if run_after else None,
            backend=marker.get("backend", self.alias),
        )
