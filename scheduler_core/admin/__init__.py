"""The Django admin: Tasks and Task sets, and the operations pages (Queues, a registry's jobs, a
job, Workers), each in its own module. Importing this package registers them all."""

from scheduler_core.admin import jobs, queues, tasks, workers

__all__ = ["jobs", "queues", "tasks", "workers"]
