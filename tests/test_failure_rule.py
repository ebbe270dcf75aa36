"""The one retry-or-fail rule (jobs/failure.py) that the executor, the supervisor and the reaper
all apply after a failed attempt."""

from __future__ import annotations

from scheduler_core.errors import CallableError
from scheduler_core.jobs.failure import JobStopped, JobTimeout, WorkerLost, retry_in
from scheduler_core.jobs.record import Job


def _job(retries_left: int, backoff: list[int], attempt: int = 1) -> Job:
    return Job(id="j", queue="default", callable="m.f", retries_left=retries_left, backoff=backoff,
               attempt=attempt)  # fmt: skip


def test_retried_after_the_backoff_of_its_attempt_while_retries_remain() -> None:
    assert retry_in(_job(2, [5, 30], attempt=1), ValueError()) == 5.0
    assert retry_in(_job(1, [5, 30], attempt=2), JobTimeout()) == 30.0
    assert retry_in(_job(1, [5, 30], attempt=4), WorkerLost()) == 30.0  # the last wait repeats
    assert retry_in(_job(1, []), WorkerLost()) == 0.0


def test_final_without_retries_or_when_another_attempt_cannot_help() -> None:
    assert retry_in(_job(0, [5]), ValueError()) is None
    assert retry_in(_job(3, [5]), CallableError("not allowed")) is None
    assert retry_in(_job(3, [5]), JobStopped("stopped by command")) is None
