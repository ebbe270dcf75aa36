"""The outcome counters and duration buckets that the Lua scripts keep in each queue's stats hash."""

from __future__ import annotations

import re
import time

import pytest

from scheduler_core.broker.scripts import source
from scheduler_core.jobs.record import Job, JobStatus, Retry
from scheduler_core.metrics.series import DURATION_BUCKETS
from scheduler_core.queues import lifecycle
from scheduler_core.queues.lifecycle import Outcome
from scheduler_core.queues.queue import JobCall, Queue, get_queue

F = "tests.jobs.noop"


@pytest.fixture
def q() -> Queue:
    return get_queue("default")


def stats(q: Queue) -> dict[str, str]:
    return q.connection.hgetall(q.keys.stats)  # type: ignore[return-value]


def claimed(q: Queue, now: float, **opts: object) -> Job:
    q.enqueue_call(JobCall(F, **opts), now=now)  # type: ignore[arg-type]
    job = lifecycle.claim(q, "w1", now=now)
    assert job is not None
    return job


def test_the_scripts_and_python_agree_on_the_duration_buckets() -> None:
    table = re.search(r"local BUCKETS = \{(.*?)\}", source("finish"))
    assert table is not None
    # Lua's tostring of a number is "%.14g": the field names are these strings
    assert tuple(format(float(b), ".14g") for b in table.group(1).split(",")) == DURATION_BUCKETS


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(JobStatus.FINISHED, "finished"), (JobStatus.FAILED, "failed"), (JobStatus.STOPPED, "stopped")],
)
def test_each_recorded_outcome_counts_once_with_its_duration(
    q: Queue, status: JobStatus, outcome: str
) -> None:
    t = time.time()
    job = claimed(q, t)
    assert lifecycle.complete(q, job, Outcome(status, {}), worker="w1", now=t + 0.3)[0]
    s = stats(q)
    assert s == {f"{outcome}:0.5": "1", "duration_us": s["duration_us"]}  # 0.3 s: in (0.25, 0.5]
    assert int(s["duration_us"]) == pytest.approx(300_000, abs=1_000)
    # a second recording of the same run is refused by the fence and counts nothing
    assert not lifecycle.complete(q, job, Outcome(status, {}), worker="w1", now=t + 1)[0]
    assert stats(q) == s


def test_a_long_run_lands_in_the_inf_bucket_and_sums_add_up(q: Queue) -> None:
    t = time.time()
    for took in (0.001, 7200.0):
        job = claimed(q, t)
        assert lifecycle.complete(q, job, Outcome(JobStatus.FINISHED, {}), worker="w1", now=t + took)[0]
    s = stats(q)
    assert s["finished:0.005"] == "1" and s["finished:+Inf"] == "1"
    assert int(s["duration_us"]) == pytest.approx(7_200_001_000, abs=1_000)


def test_a_retry_counts_as_retried_and_a_stale_one_counts_nothing(q: Queue) -> None:
    t = time.time()
    job = claimed(q, t, retry=Retry(2, (5,)))
    assert lifecycle.retry_later(q, job, 5, {"exc_type": "ValueError"}, now=t)
    assert not lifecycle.retry_later(q, job, 5, {}, now=t)  # not active any more
    assert stats(q) == {"retried": "1"}


def test_lost_jobs_count_once_whether_requeued_or_failed(q: Queue) -> None:
    t = time.time()
    claimed(q, t, retry=Retry(1, (5,)))
    claimed(q, t)
    lease = q.config.lease_ttl
    assert sorted(o for _, o in lifecycle.reap(q, now=t + lease + 1)) == ["failed", "retrying"]
    assert stats(q) == {"lost": "2"}
    assert lifecycle.reap(q, now=t + lease + 2) == []
    assert stats(q) == {"lost": "2"}


def test_counters_are_per_queue() -> None:
    t = time.time()
    high, low = get_queue("high"), get_queue("low")
    job = claimed(high, t)
    assert lifecycle.complete(high, job, Outcome(JobStatus.FINISHED, {}), worker="w1", now=t)[0]
    assert stats(high)["finished:0.005"] == "1" and stats(low) == {}
