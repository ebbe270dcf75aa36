"""scheduler_core: a database-backed task scheduler for Django on a Redis/Valkey broker.

The public API is imported lazily so that `import scheduler_core` needs neither Django settings
nor a broker connection: each name below is loaded from its module on first use. Type checkers
read the same names from the TYPE_CHECKING block, so `from scheduler_core import get_queue` is
typed as the function itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler_core.errors import JobFailed
    from scheduler_core.jobs.current import get_current_job
    from scheduler_core.jobs.decorator import job
    from scheduler_core.jobs.record import Job, JobStatus, Retry
    from scheduler_core.queues.queue import JobCall, Queue, find_job, get_queue

__all__ = [
    "Job",
    "JobCall",
    "JobFailed",
    "JobStatus",
    "Queue",
    "Retry",
    "find_job",
    "get_current_job",
    "get_queue",
    "job",
]

# public name -> the module that defines it
_HOME = {
    "Job": "scheduler_core.jobs.record",
    "JobStatus": "scheduler_core.jobs.record",
    "Retry": "scheduler_core.jobs.record",
    "job": "scheduler_core.jobs.decorator",
    "JobCall": "scheduler_core.queues.queue",
    "Queue": "scheduler_core.queues.queue",
    "find_job": "scheduler_core.queues.queue",
    "get_queue": "scheduler_core.queues.queue",
    "JobFailed": "scheduler_core.errors",
    "get_current_job": "scheduler_core.jobs.current",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'scheduler_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
