"""A site's own code: enqueue on commit, EAGER, get_current_job + meta, override_settings, broker
errors from the Python API. Real Redis, real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.test import override_settings

from scheduler_core import JobFailed, get_current_job, job
from scheduler_core.conf import get_config, parse_config
from scheduler_core.errors import BrokerUnavailable, NotSerializable
from scheduler_core.jobs.record import JobStatus, Retry
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.testing import drain
from tests import code_jobs
from tests.cli import cli

CLOSED = "redis://:s3cret@127.0.0.1:1/0"  # nothing listens on port 1


def scheduler(**changes: Any) -> dict[str, Any]:
    return {**settings.SCHEDULER, **changes}


@pytest.fixture(autouse=True)
def _on_commit_as_by_default(key_prefix: str, settings: Any) -> None:
    """SCHEDULER["ENQUEUE_ON_COMMIT"] as a site has it by default (tests/settings.py turns it off)."""
    settings.SCHEDULER = {k: v for k, v in settings.SCHEDULER.items() if k != "ENQUEUE_ON_COMMIT"}


@pytest.fixture(autouse=True)
def _calls() -> Iterator[None]:
    code_jobs.CALLS.clear()
    yield
    code_jobs.CALLS.clear()


@job(queue="default")
def double(x: int) -> int:
    return 2 * x


# ----- 1. enqueue on commit -----
@pytest.mark.django_db(transaction=True)
def test_on_commit_is_the_default_and_sends_after_the_outermost_commit() -> None:
    q = get_queue()
    assert get_config().enqueue_on_commit is parse_config({}).enqueue_on_commit is True
    with transaction.atomic():
        j = q.enqueue(code_jobs.echo, 1)
        with transaction.atomic():
            k = double.delay(2)
        assert (j.delivery, q.count("queued")) == ("on_commit", 0)  # the inner block's exit sends nothing
        assert len(j.id) == 32 and q.fetch_job(j.id) is None
    assert q.count("queued") == 2 and j.delivery == k.delivery == ""
    fetched = q.fetch_job(j.id)
    assert fetched is not None and fetched.args == [1] and fetched.status is JobStatus.QUEUED


@pytest.mark.django_db(transaction=True)
def test_rollback_and_savepoint_rollback_send_nothing() -> None:
    q = get_queue()
    with pytest.raises(RuntimeError), transaction.atomic():
        q.enqueue(code_jobs.echo, "rolled back")
        raise RuntimeError
    assert q.count("queued") == 0
    with transaction.atomic():
        kept = q.enqueue(code_jobs.echo, "kept")
        try:
            with transaction.atomic():  # a savepoint
                q.enqueue(code_jobs.echo, "savepoint rolled back")
                raise ValueError
        except ValueError:
            pass
    assert q.job_ids("queued") == [kept.id]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_and_opted_out_it_is_immediate() -> None:
    q = get_queue()
    q.enqueue(code_jobs.echo, "no transaction")
    assert q.count("queued") == 1
    with transaction.atomic():
        q.enqueue_call(JobCall(code_jobs.echo, ("now",)), on_commit=False)
        double.using(on_commit=False).delay(3)
        assert q.count("queued") == 3
        with override_settings(SCHEDULER=scheduler(ENQUEUE_ON_COMMIT=False)):
            get_queue().enqueue(code_jobs.echo, "setting off")
            assert get_queue().count("queued") == 4


@pytest.mark.django_db(transaction=True)
def test_bulk_enqueue_waits_for_the_commit_too() -> None:
    q = get_queue()
    with transaction.atomic():
        jobs = q.enqueue_many([JobCall(code_jobs.echo, (i,)) for i in range(3)])
        assert q.count("queued") == 0 and {j.delivery for j in jobs} == {"on_commit"}
    assert q.job_ids("queued") == [j.id for j in jobs]


@pytest.mark.django_db(transaction=True)
def test_a_broker_down_at_commit_is_broker_unavailable_from_the_atomic_block() -> None:
    with override_settings(SCHEDULER=scheduler(BROKER_URL=CLOSED, CONNECT_TIMEOUT=0.5)):
        with pytest.raises(BrokerUnavailable) as exc, transaction.atomic():
            get_queue().enqueue(code_jobs.echo)
        assert "redis://:***@127.0.0.1:1/0" in str(exc.value) and "s3cret" not in str(exc.value)


# ----- 2. EAGER -----
@pytest.fixture
def eager() -> Iterator[None]:
    # no broker at all: the closed port proves nothing talks to one
    with override_settings(SCHEDULER=scheduler(EAGER=True, BROKER_URL=CLOSED, CONNECT_TIMEOUT=0.2)):
        yield


def test_eager_runs_in_the_caller_after_a_json_round_trip(eager: None) -> None:
    j = get_queue().enqueue(code_jobs.echo, (1, 2), when={"n": 1})
    assert j.status is JobStatus.FINISHED and j.delivery == "eager"
    assert j.result == {"args": [[1, 2]], "kwargs": {"when": {"n": 1}}}  # the tuple came back a list
    assert j.wait() == j.result and j.refresh() is j
    assert double.delay(21).result == 42
    with pytest.raises(NotSerializable):
        get_queue().enqueue(code_jobs.echo, object())


def test_eager_failures_retries_callbacks_and_current_job(eager: None) -> None:
    q = get_queue()
    call = JobCall(code_jobs.boom, on_failure="tests.code_jobs.on_failure")
    failed = q.enqueue_call(call)
    assert failed.status is JobStatus.FAILED and failed.exc_type == "KeyError"
    with pytest.raises(JobFailed) as exc:
        failed.wait()
    assert exc.value.job is failed and exc.value.exc_type == "KeyError" and "boom" in exc.value.traceback
    # retries run at once: a backoff of an hour is not waited for
    started = time.monotonic()
    token = f"t{time.time_ns()}"
    retried = q.enqueue_call(
        JobCall(code_jobs.flaky, (token, 2), retry=Retry(2, (3600,)), on_success="tests.code_jobs.on_success")
    )
    assert time.monotonic() - started < 5
    assert (retried.status, retried.result, retried.attempt) == (JobStatus.FINISHED, 3, 3)
    assert [("failure", (failed.id, "KeyError")), ("success", (retried.id, 3, retried.id))] == code_jobs.CALLS
    mine = q.enqueue(code_jobs.my_id)
    assert mine.result == mine.id and get_current_job() is None


def test_eager_timeout_and_unjsonable_result(eager: None) -> None:
    q = get_queue()
    slow = q.enqueue_call(JobCall(code_jobs.nap, (5,), timeout=1))
    assert slow.status is JobStatus.FAILED and slow.exc_type == "JobTimeout"
    odd = q.enqueue(code_jobs.not_json)
    assert odd.status is JobStatus.FINISHED and odd.result_is_repr and odd.result.startswith("<object")


@pytest.mark.django_db
def test_eager_job_sees_the_callers_rows(eager: None, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = User.objects.create(username="ann", email="ann@example.com")
        j = get_queue().enqueue(code_jobs.user_email, user.pk)
        assert j.delivery == "on_commit" and j.status is JobStatus.QUEUED  # eager waits for the commit too
    assert j.result == "ann@example.com"


# ----- 4. override_settings -----
def test_override_settings_takes_effect_without_a_reset() -> None:
    before = get_queue().keys.prefix
    with override_settings(SCHEDULER=scheduler(KEY_PREFIX="elsewhere", QUEUES={"other": {}})):
        assert get_config().key_prefix == "elsewhere" and get_queue("other").keys.prefix == "elsewhere"
    assert get_queue().keys.prefix == before and "other" not in get_config().queues


# ----- 5. get_current_job and meta -----
def test_meta_is_saved_alone_and_shown(redis_client: Any) -> None:
    q = get_queue()
    j = q.enqueue_call(JobCall(code_jobs.progress, (3,), meta={"label": "import"}))
    assert drain() == 1
    done = q.fetch_job(j.id)
    assert done is not None and done.status is JobStatus.FINISHED and done.result == j.id
    assert done.meta == {"label": "import", "done": 3, "of": 3}
    # save_meta writes the meta field and nothing else
    queued = q.enqueue(code_jobs.echo)
    before = redis_client.hgetall(q.keys.job(queued.id))
    queued.meta["note"] = "hi"
    queued.save_meta()
    after = redis_client.hgetall(q.keys.job(queued.id))
    assert {k: v for k, v in after.items() if k != b"meta"} == before and after[b"meta"] == b'{"note":"hi"}'
    out = cli("jobs", "show", j.id, "-o", "json")
    assert out.code == 0 and json.loads(out.stdout)["meta"] == {"label": "import", "done": 3, "of": 3}


# ----- 7. broker errors -----
def test_broker_errors_from_the_python_api_are_broker_unavailable() -> None:
    with override_settings(SCHEDULER=scheduler(BROKER_URL=CLOSED, CONNECT_TIMEOUT=0.2)):
        q = get_queue()
        for attempt in (
            lambda: q.enqueue(code_jobs.echo),
            lambda: double.delay(1),
            lambda: q.fetch_job("x"),
            lambda: q.count("queued"),
            lambda: q.cancel("x"),
        ):
            with pytest.raises(BrokerUnavailable) as exc:
                attempt()
            message = str(exc.value)
            assert message.startswith("broker redis://:***@127.0.0.1:1/0 unreachable")
            assert "s3cret" not in message and exc.value.exit_code == 69


@pytest.mark.django_db
def test_the_scheduler_sends_now_whatever_the_transaction_or_eager() -> None:
    with override_settings(SCHEDULER=scheduler(EAGER=True)):
        q = get_queue()
        jobs = q.enqueue_many([JobCall(code_jobs.echo)], on_commit=False, eager=False)
        assert q.count("queued") == 1 and jobs[0].status is JobStatus.QUEUED and jobs[0].delivery == ""
