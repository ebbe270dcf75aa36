"""The scheduler: turns tasks into jobs (planner), moves due jobs to queued, holds the leader
lock (leader), refills a broker that lost its data (recovery). `run_forever` is the loop that
`taskctl scheduler start` and the worker's scheduler subprocess run; `run_once` is one pass."""

from __future__ import annotations

from scheduler_core.scheduler.loop import PassResult, Scheduler, run_forever, run_once

run_pass = run_once  # the name the benchmarks look for

__all__ = ["PassResult", "Scheduler", "run_forever", "run_once", "run_pass"]
