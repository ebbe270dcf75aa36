"""The metric series' names, labels and the job-duration buckets (names are a contract).

The outcome counters and the duration buckets are kept in the broker, in each queue's stats hash
(`broker/keys.py`), by the Lua scripts that record the outcomes: they survive restarts and count
every worker. The scripts and this module must agree on the buckets (a test reads both).
"""

from __future__ import annotations

QUEUE_JOBS = "taskctl_queue_jobs"
WORKERS = "taskctl_workers"
JOBS = "taskctl_jobs"  # a counter: exposed as taskctl_jobs_total
JOB_DURATION = "taskctl_job_duration_seconds"
OLDEST_QUEUED = "taskctl_oldest_queued_seconds"
SCHEDULER_LATENESS = "taskctl_scheduler_lateness_seconds"
SCHEDULER_LEADER = "taskctl_scheduler_leader"
BROKER_UP = "taskctl_broker_up"

# How an execution ended; every execution ends in exactly one of these.
OUTCOMES: tuple[str, ...] = ("finished", "failed", "stopped", "retried", "lost")

# A worker's states, as its heartbeat writes them.
WORKER_STATES: tuple[str, ...] = ("idle", "busy", "suspended", "stopping")

# Upper bounds in seconds (the +Inf bucket is implied), as finish.lua writes them (Lua's tostring).
DURATION_BUCKETS: tuple[str, ...] = (
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "300", "900",
    "3600",
)  # fmt: skip

DURATION_SUM_FIELD = "duration_us"  # the stats hash's total run time, in microseconds
