"""Promotion reads the broker's clock when its script runs: a command that waited out a paused
broker does not move an occurrence that became late meanwhile as if it were on time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from scheduler_core.conf import reset_config
from scheduler_core.queues.queue import JobCall, get_queue
from tests.private_redis import SERVER, PrivateRedis

pytestmark = pytest.mark.skipif(SERVER is None, reason="no redis-server binary on PATH")


@pytest.fixture
def broker(settings: object, key_prefix: str) -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    conf = dict(settings.SCHEDULER)  # type: ignore[attr-defined]
    conf["BROKER_URL"] = server.url
    settings.SCHEDULER = conf  # type: ignore[attr-defined]
    reset_config()
    yield server
    reset_config()
    server.stop()


def test_a_promotion_held_up_by_a_paused_broker_uses_the_time_it_runs(broker: PrivateRedis) -> None:
    q = get_queue("default")
    t0 = time.time()
    q.enqueue_call(JobCall("tests.jobs.noop", job_id="task-1-100", at=t0 + 0.3))  # an occurrence
    q.enqueue_call(JobCall("tests.jobs.noop", job_id="plain", at=t0 + 0.3))
    time.sleep(0.4)  # both due now, on time
    moved: list[int] = []
    broker.pause()
    try:
        caller = threading.Thread(target=lambda: moved.append(q.promote_due(hold_late_by=1.0)))
        caller.start()  # sent now, run when the server resumes
        time.sleep(2.0)
    finally:
        broker.resume()
    caller.join(10)
    assert moved == [1]
    c = broker.client()
    assert c.zscore(q.keys.scheduled, "task-1-100") is not None  # late by 2 s > grace: held
    plain = q.fetch_job("plain")
    assert plain is not None and plain.enqueued_at is not None
    assert plain.enqueued_at.timestamp() >= t0 + 2.0  # stamped when the script ran, not when sent


def test_injected_clocks_are_used_as_given(broker: PrivateRedis) -> None:
    q = get_queue("default")
    q.enqueue_call(JobCall("tests.jobs.noop", job_id="later", at=2_000_000_000.0), now=1_000_000_000.0)
    assert q.promote_due(now=1_999_999_999.0) == 0
    assert q.promote_due() == 0  # the broker's clock: not due for years
    assert q.promote_due(now=2_000_000_000.0) == 1
    job = q.fetch_job("later")
    assert job is not None and job.enqueued_at is not None and job.enqueued_at.timestamp() == 2_000_000_000.0


def test_the_scheduler_holds_only_what_became_late_since_its_pass_began(broker: PrivateRedis) -> None:
    q = get_queue("default")
    t = time.time()
    for job_id, due in (("task-1-1", t - 30), ("task-1-2", t - 3), ("task-1-3", t - 0.5), ("plain", t - 3)):
        q.enqueue_call(JobCall("tests.jobs.noop", job_id=job_id, at=due), now=t - 60)
    # a pass that began at t - 2.5 with a grace of 1 s: task-1-1 was judged (old), task-1-2 became
    # late during the pass, task-1-3 is on time, a plain job is never held
    assert q.promote_due(hold_late_by=1.0, hold_from=t - 2.5 - 1.0) == 3
    assert broker.client().zrange(q.keys.scheduled, 0, -1) == ["task-1-2"]

    assert q.promote_due(hold_late_by=1.0, hold_from=time.time() - 1.0 - 0.5) == 1  # slow, not stalled


def test_a_slow_pass_holds_nothing(broker: PrivateRedis) -> None:
    q = get_queue("default")
    t = time.time()
    q.enqueue_call(JobCall("tests.jobs.noop", job_id="task-1-2", at=t - 3), now=t - 60)
    # began 0.8 s ago with a grace of 1 s: slow, not stalled; what it planned late moves
    assert q.promote_due(hold_late_by=1.0, hold_from=t - 0.8 - 1.0) == 1
