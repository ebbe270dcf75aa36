"""scheduler_core: a database-backed task scheduler for Django on a Redis/Valkey broker.

The public API is imported lazily so that `import scheduler_core` needs neither Django settings
nor a broker connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as mypy sees them; at run time __getattr__ imports them on first use
    from scheduler_core.errors import JobFailed as JobFailed
    from scheduler_core.jobs.current import get_current_job as get_current_job
    from scheduler_core.jobs.decorator import job as job
    from scheduler_core.jobs.record import Job as Job
    from scheduler_core.queues.queue import Queue as Queue
    from scheduler_core.queues.queue import get_queue as get_queue

__all__ = ["Job", "JobFailed", "Queue", "get_current_job", "get_queue", "job"]


def __getattr__(name: str) -> Any:
    if name in ("get_queue", "Queue"):
        from scheduler_core.queues import queue as queues

        return getattr(queues, name)
    if name == "job":
        from scheduler_core.jobs.decorator import job

        return job
    if name == "get_current_job":
        from scheduler_core.jobs.current import get_current_job

        return get_current_job
    if name == "JobFailed":
        from scheduler_core.errors import JobFailed

        return JobFailed
    if name == "Job":
        from scheduler_core.jobs.record import Job

        return Job
    raise AttributeError(name)
