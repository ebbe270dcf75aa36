"""What `taskctl worker start` was asked to do."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class WorkerOptions:
    queues: list[str] = field(default_factory=list)  # priority order; empty = all configured
    concurrency: int = 1
    burst: bool = False
    max_jobs: int | None = None
    max_idle_time: float | None = None
    with_scheduler: bool = True
    name: str | None = None
    pid_file: str | None = None
    callback_timeout: float = 60.0
