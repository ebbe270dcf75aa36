"""`get_current_job()`: the Job that the code calling it runs in (a job or one of its callbacks).

The context variable of scheduler_core.worker.current, set around the call by whoever runs the
job: an execution process, the eager mode or `scheduler_core.testing.drain` (all through
scheduler_core.worker.running). Outside a job it is None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler_core.worker.current import running_job

if TYPE_CHECKING:
    from scheduler_core.jobs.record import Job


def get_current_job() -> Job | None:
    """The running job (its `meta` can be changed and saved with `save_meta()`), or None."""
    return running_job.get()
