"""The worker: a supervisor process, its execution processes, heartbeats and the commands channel.

supervisor.py   process tree: forks execution processes, hard timeouts, signals, restarts
executor.py     one execution process: claim, run, record (and claim the next), repeat
running.py      running one job: soft timeout, result / failure, retries, callbacks
slots.py        shared memory through which execution processes report their current job
heartbeat.py    worker record, lease renewal, recovery of expired leases, dead workers
commands.py     the pub/sub commands listener (shutdown, stop-job, suspend, resume)
scheduler_proc.py  the scheduler subprocess
logs.py         text or JSON log lines on stderr
"""

from __future__ import annotations

from scheduler_core.worker.options import WorkerOptions

__all__ = ["WorkerOptions", "run_worker"]


def run_worker(options: WorkerOptions) -> int:
    """Run a worker until it is told to stop; returns the process exit code."""
    from scheduler_core.worker.supervisor import Supervisor

    return Supervisor(options).run()
