"""scheduler_core.testing (drain, isolated_broker) and Job.wait / refresh, on a real Redis and DB."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from scheduler_core.conf import get_config
from scheduler_core.errors import JobFailed, NotFound, UsageError
from scheduler_core.jobs.record import JobStatus, Retry
from scheduler_core.queues import lifecycle
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.testing import drain, isolated_broker
from tests import code_jobs
from tests.processes import WorkerProc


@pytest.fixture(autouse=True)
def _on_commit_as_by_default(key_prefix: str, settings: Any) -> None:
    """SCHEDULER["ENQUEUE_ON_COMMIT"] as a site has it by default (tests/settings.py turns it off)."""
    settings.SCHEDULER = {k: v for k, v in settings.SCHEDULER.items() if k != "ENQUEUE_ON_COMMIT"}


# ----- 3. drain -----
def test_drain_runs_queued_and_due_jobs_until_empty() -> None:
    q, high = get_queue(), get_queue("high")
    a = q.enqueue(code_jobs.echo, 1)
    b = high.enqueue(code_jobs.echo, 2)
    due = q.enqueue_call(JobCall(code_jobs.echo, (3,), at=time.time() - 5))
    later = q.enqueue_in(3600, code_jobs.echo, 4)
    token = f"t{time.time_ns()}"
    retried = q.enqueue_call(JobCall(code_jobs.flaky, (token, 1), retry=Retry(1, (3600,))))
    assert drain() == 5  # a, b, due, and the flaky job twice (its retry is not held back)
    assert [q.fetch_job(j.id).status for j in (a, due, retried)] == [JobStatus.FINISHED] * 3  # type: ignore[union-attr]
    assert high.fetch_job(b.id).result == {"args": [2], "kwargs": {}}  # type: ignore[union-attr]
    assert q.fetch_job(later.id).status is JobStatus.SCHEDULED  # type: ignore[union-attr]
    assert q.count("active") == 0 and drain() == 0


def test_drain_of_named_queues_and_a_runaway_job() -> None:
    q, high = get_queue(), get_queue("high")
    q.enqueue(code_jobs.echo)
    high.enqueue(code_jobs.echo)
    assert drain("high") == 1 and q.count("queued") == 1
    for _ in range(3):
        q.enqueue(code_jobs.echo)
    with pytest.raises(UsageError, match="still not empty"):
        drain(q, max_jobs=2)


def test_drain_runs_callbacks_and_records_failures() -> None:
    q = get_queue()
    bad = q.enqueue_call(JobCall(code_jobs.boom, on_failure="tests.code_jobs.on_failure"))
    code_jobs.CALLS.clear()
    assert drain() == 1
    failed = q.fetch_job(bad.id)
    assert failed is not None and failed.status is JobStatus.FAILED and failed.exc_type == "KeyError"
    assert [("failure", (bad.id, "KeyError"))] == code_jobs.CALLS


@pytest.mark.django_db
def test_drain_in_a_testcase_transaction_sees_the_tests_row(django_capture_on_commit_callbacks: Any) -> None:
    user = User.objects.create(username="bo", email="bo@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        j = get_queue().enqueue(code_jobs.user_email, user.pk)
        assert drain() == 0  # on commit: not sent until the (captured) commit
    assert drain() == 1 and j.refresh().result == "bo@example.com"


@pytest.mark.django_db(transaction=True)
def test_drain_in_a_transactional_test() -> None:
    user = User.objects.create(username="cy", email="cy@example.com")
    with transaction.atomic():
        j = get_queue().enqueue(code_jobs.user_email, user.pk)
    assert drain() == 1 and j.wait(timeout=1) == "cy@example.com"


def test_isolated_broker_gives_a_prefix_and_deletes_its_keys(redis_client: Any) -> None:
    outer = get_config().key_prefix
    with isolated_broker() as prefix:
        assert isinstance(prefix, str) and prefix.startswith(f"{outer}-test-")
        assert get_config().key_prefix == prefix
        get_queue().enqueue(code_jobs.echo)
        assert list(redis_client.scan_iter(match=f"{prefix}:*"))
    assert get_config().key_prefix == outer
    assert not list(redis_client.scan_iter(match=f"{prefix}:*"))


# ----- 6. refresh and wait -----
def test_wait_is_woken_by_the_finish_not_by_a_poll() -> None:
    q = get_queue()
    j = q.enqueue(code_jobs.echo, "x")
    got: dict[str, Any] = {}

    def waiter() -> None:
        started = time.monotonic()
        got["result"] = j.wait(timeout=30)
        got["took"] = time.monotonic() - started

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)  # the waiter is blocked in BLPOP by now
    assert drain() == 1
    t.join(10)
    assert got["result"] == {"args": ["x"], "kwargs": {}}
    assert got["took"] < 3  # well under a slice (5 s): the done token woke it
    assert j.status is JobStatus.FINISHED and j.ended_at is not None


def _waiters(job: Any, n: int) -> tuple[list[threading.Thread], list[Any]]:
    out: list[Any] = []

    def one() -> None:
        try:
            out.append(job.__class__(id=job.id, queue=job.queue, callable=job.callable).wait(timeout=20))
        except JobFailed as exc:
            out.append(exc)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    return threads, out


def test_every_waiter_is_woken() -> None:
    j = get_queue().enqueue(code_jobs.echo, "all")
    threads, out = _waiters(j, 3)
    started = time.monotonic()
    assert drain() == 1
    for t in threads:
        t.join(10)
    assert out == [{"args": ["all"], "kwargs": {}}] * 3 and time.monotonic() - started < 3


def test_a_job_lost_with_its_worker_wakes_its_waiters_as_failed() -> None:
    q = get_queue()
    j = q.enqueue(code_jobs.echo)
    then = time.time() - 3600
    assert lifecycle.claim(q, "ghost", now=then) is not None  # its lease ran out an hour ago
    threads, out = _waiters(j, 1)
    started = time.monotonic()
    assert lifecycle.reap(q) == [(j.id, "failed")]
    threads[0].join(10)
    assert isinstance(out[0], JobFailed) and out[0].exc_type == "WorkerLost"
    assert time.monotonic() - started < 3


def test_wait_timeout_failure_cancel_and_gone_records() -> None:
    q = get_queue()
    pending = q.enqueue(code_jobs.echo)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"did not end within 0\.3s"):
        pending.wait(timeout=0.3)
    assert time.monotonic() - started < 2
    bad = q.enqueue(code_jobs.boom)
    drain()  # runs pending and bad
    with pytest.raises(JobFailed) as exc:
        bad.wait(timeout=5)
    assert exc.value.exc_type == "KeyError" and exc.value.job.status is JobStatus.FAILED
    canceled = q.enqueue_in(3600, code_jobs.echo)
    threading.Timer(0.2, q.cancel, (canceled.id,)).start()
    with pytest.raises(JobFailed, match="canceled"):
        canceled.wait(timeout=5)
    kept_nothing = q.enqueue_call(JobCall(code_jobs.echo, result_ttl=0))
    threading.Timer(0.2, drain).start()
    assert kept_nothing.wait(timeout=5) is None and kept_nothing.status is JobStatus.FINISHED
    with pytest.raises(NotFound):
        kept_nothing.refresh()


@pytest.mark.django_db
def test_wait_before_the_commit_is_a_usage_error() -> None:
    j = get_queue().enqueue(code_jobs.echo)  # inside the test's transaction: not sent yet
    with pytest.raises(UsageError, match="sent when its transaction commits"):
        j.wait(timeout=1)


@pytest.mark.process
def test_wait_and_progress_with_a_real_worker(key_prefix: str, tmp_path: Path) -> None:
    worker = WorkerProc(key_prefix, tmp_path)
    try:
        q = get_queue()
        j = q.enqueue_call(JobCall("tests.jobs.sleep", (0.5,)))
        worker.start()
        assert j.wait(timeout=20) == 0.5
        p = q.enqueue_call(JobCall(code_jobs.progress, (4,)))
        assert p.wait(timeout=20) == p.id and p.meta == {"done": 4, "of": 4}
        f = q.enqueue(code_jobs.boom)
        with pytest.raises(JobFailed, match="KeyError"):
            f.wait(timeout=20)
    finally:
        worker.stop_all()
