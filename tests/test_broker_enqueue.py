"""The Python enqueue API, reading and paging registries, and bounded growth (TTLs and prune)."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import pytest

import scheduler_core
from scheduler_core.errors import CallableError, NotFound, NotSerializable, UnknownQueue
from scheduler_core.jobs.record import JobStatus, Retry
from scheduler_core.queues import lifecycle
from scheduler_core.queues.invariants import check
from scheduler_core.queues.lifecycle import Outcome
from scheduler_core.queues.queue import JobCall, Queue, find_job, get_queue
from tests.jobs import add, decorated_add

F = "tests.jobs.noop"


@pytest.fixture
def q() -> Queue:
    return get_queue("default")


def keys_of(q: Queue) -> list[str]:
    return list(q.connection.scan_iter(match=f"{q.config.key_prefix}:*", count=1000))


def test_public_api_from_the_package(q: Queue) -> None:
    assert scheduler_core.get_queue("default") is q

    j = q.enqueue(add, 1, 2)  # a function object is stored by its dotted path
    assert (
        isinstance(j, scheduler_core.Job) and j.callable == "tests.jobs.add" and j.status is JobStatus.QUEUED
    )
    assert q.count("queued") == 1 and q.count("finished") == 0


def test_enqueue_call_options_are_recorded(q: Queue) -> None:
    occurrence = datetime(2030, 1, 1, tzinfo=UTC)
    call = JobCall(
        "tests.jobs.add", (1,), {"b": 2}, timeout=9, result_ttl=8, failure_ttl=7, retry=Retry(3, (1, 5)),
        on_success="tests.jobs.callback_success", meta={"who": "me"}, task_id=5, occurrence=occurrence,
    )  # fmt: skip
    j = q.enqueue_call(call)
    rec = find_job(j.id)
    assert (rec.args, rec.kwargs, rec.timeout, rec.result_ttl, rec.failure_ttl) == ([1], {"b": 2}, 9, 8, 7)
    assert rec.retries_left == 3 and rec.backoff == [1, 5] and rec.meta == {"who": "me"}
    assert (
        rec.task_id == 5 and rec.occurrence == occurrence and rec.on_success == "tests.jobs.callback_success"
    )
    assert rec.to_dict()["queue"] == "default"
    assert Retry(3, (1, 5)).delay(1) == 1 and Retry(3, (1, 5)).delay(3) == 5


@pytest.mark.parametrize("at", [None, 3600.0])
def test_the_returned_job_is_the_stored_one(q: Queue, at: float | None) -> None:
    now = time.time()
    call = JobCall(
        "tests.jobs.add", args=[1, 2], at=None if at is None else now + at,
        retry=Retry(max=2, backoff=(5, 10)), on_failure="tests.jobs.noop", meta={"by": "test"}, task_id=7,
        occurrence=datetime(2030, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    returned = q.enqueue_call(call)
    stored = q.fetch_job(returned.id)
    assert stored is not None
    mine, theirs = returned.to_dict(), stored.to_dict()
    for key in ("created_at", "enqueued_at", "due_at"):  # the broker stores times to the microsecond
        a, b = mine.pop(key), theirs.pop(key)
        assert (a is None) == (b is None) and (a is None or abs((a - b).total_seconds()) < 1e-3), key
    assert mine == theirs
    assert returned.created_at is not None and (returned.due_at is not None) == (at is not None)


def test_enqueue_with_a_fixed_id_is_idempotent(q: Queue) -> None:
    first = q.enqueue_call(JobCall(F, job_id="occ-1"))
    again = q.enqueue_call(JobCall("tests.jobs.add", (1, 2), job_id="occ-1"))
    assert first.id == again.id == "occ-1"
    assert q.job_ids("queued") == ["occ-1"]
    assert find_job("occ-1").callable == F  # the first record is left alone
    # still idempotent once it ran and is kept in finished
    job = lifecycle.claim(q, "w")
    assert job is not None
    lifecycle.complete(q, job, Outcome(JobStatus.FINISHED, {}), worker="w")
    q.enqueue_call(JobCall(F, job_id="occ-1"))
    assert q.registry_of("occ-1") == "finished" and q.count("queued") == 0
    assert check(q).ok


@pytest.mark.parametrize(
    ("args", "kwargs", "names"),
    [
        (({1, 2},), {}, "argument 1"),
        ((1, object()), {}, "argument 2"),
        ((), {"when": datetime.now(UTC)}, "keyword argument 'when'"),
        ((math.nan,), {}, "NaN"),
        (([1, {"deep": math.inf}],), {}, "infinity"),
        (({1: "non-str key"},), {}, "argument 1"),
        ((2**70,), {}, "argument 1"),
    ],
)
def test_non_json_arguments_are_refused_and_nothing_is_written(
    q: Queue, args: tuple[object, ...], kwargs: dict[str, object], names: str
) -> None:
    with pytest.raises(NotSerializable) as exc:
        q.enqueue(F, *args, **kwargs)
    message = str(exc.value)
    assert names in message and "JSON" in message and "\n" not in message
    assert exc.value.exit_code == 3
    assert keys_of(q) == []


def test_a_bad_call_late_in_a_bulk_enqueue_writes_nothing(q: Queue) -> None:
    calls = [JobCall(F, (i,)) for i in range(7_000)]
    calls.append(JobCall(F, (datetime.now(UTC),)))
    with pytest.raises(NotSerializable, match="argument 1"):
        q.enqueue_many(calls)
    assert q.counts() == dict.fromkeys(q.counts(), 0) and keys_of(q) == []


def test_bulk_enqueue(q: Queue) -> None:
    t = time.time()
    calls = [JobCall(F, (i,), at=t + 60 if i % 3 == 0 else None) for i in range(12_345)]
    jobs = q.enqueue_many(calls, now=t)
    assert len(jobs) == 12_345 and len({j.id for j in jobs}) == 12_345
    assert q.count("scheduled") == 4_115 and q.count("queued") == 8_230
    first = q.jobs("queued", limit=2)
    assert [j.args for j in first] == [[1], [2]]
    assert q.enqueue_many([]) == []
    assert check(q).ok


def test_bad_callables(q: Queue) -> None:
    with pytest.raises(CallableError):
        q.enqueue(lambda: None)
    with pytest.raises(Exception, match="not a dotted path") as exc:
        q.enqueue("noop")
    assert getattr(exc.value, "exit_code", None) == 3


def test_job_decorator_delay() -> None:
    assert decorated_add(2, 3) == 5  # still a plain function when called
    j = decorated_add.delay(2, b=3)
    assert j.queue == "high" and j.callable == "tests.jobs.decorated_add"
    rec = find_job(j.id)
    assert rec.queue == "high" and rec.timeout == 42 and rec.result_ttl == 7
    assert rec.args == [2] and rec.kwargs == {"b": 3}
    assert get_queue("high").job_ids("queued") == [j.id]


def test_fetch_and_find_across_queues() -> None:
    low = get_queue("low")
    j = low.enqueue(F)
    assert find_job(j.id).queue == "low"
    assert find_job(j.id, "low").id == j.id
    with pytest.raises(NotFound, match="not found in queue 'high'"):
        find_job(j.id, "high")
    with pytest.raises(NotFound, match="'nope' not found") as exc:
        find_job("nope")
    assert exc.value.exit_code == 3
    with pytest.raises(UnknownQueue, match="unknown queue 'nosuch'"):
        find_job(j.id, "nosuch")


def test_unknown_queue() -> None:
    with pytest.raises(UnknownQueue) as exc:
        get_queue("nosuch")
    assert exc.value.exit_code == 3 and "default, high, low" in str(exc.value)


def test_pages_in_order(q: Queue) -> None:
    t = 1_000_000.0
    queued = [j.id for j in q.enqueue_many([JobCall(F) for _ in range(120)], now=t)]
    pages = [q.job_ids("queued", offset=o, limit=50) for o in (0, 50, 100, 150)]
    assert [len(p) for p in pages] == [50, 50, 20, 0] and [i for p in pages for i in p] == queued
    due = [q.enqueue_call(JobCall(F, at=t + 1000 - i), now=t).id for i in range(30)]
    assert q.job_ids("scheduled", limit=100) == list(reversed(due))  # soonest first
    done = []
    for i in range(30):
        job = lifecycle.claim(q, "w", now=t + i)
        assert job is not None
        lifecycle.complete(q, job, Outcome(JobStatus.FINISHED, {}), worker="w", now=t + i)
        done.append(job.id)
    newest_first = list(reversed(done))
    assert q.job_ids("finished", offset=10, limit=10, now=t) == newest_first[10:20]
    assert [j.id for j in q.fetch_many(newest_first[:3])] == newest_first[:3]


def test_counts_leave_out_expired_terminal_entries(q: Queue) -> None:
    t = time.time()
    for ttl in (10, 100):
        job = q.enqueue_call(JobCall(F, result_ttl=ttl), now=t)
        claimed = lifecycle.claim(q, "w", now=t)
        assert claimed is not None and claimed.id == job.id
        lifecycle.complete(q, claimed, Outcome(JobStatus.FINISHED, {}), worker="w", now=t)
    assert q.counts(now=t + 5)["finished"] == 2
    assert q.counts(now=t + 11)["finished"] == 1
    assert len(q.job_ids("finished", now=t + 11)) == 1
    assert q.prune(now=t + 11) == 1 and q.connection.zcard(q.keys.finished) == 1


def test_ttl_expiry_takes_records_and_then_index_entries(q: Queue) -> None:
    """A real (short) TTL: the record expires in Redis, counts drop it at once, prune drops the entry."""
    ended = []
    for outcome, field in ((JobStatus.FINISHED, "result_ttl"), (JobStatus.FAILED, "failure_ttl")):
        job = q.enqueue_call(JobCall(F, **{field: 1}))  # type: ignore[arg-type]
        claimed = lifecycle.claim(q, "w")
        assert claimed is not None
        lifecycle.complete(q, claimed, Outcome(outcome, {}), worker="w")
        assert 0 < q.connection.pttl(q.keys.job(job.id)) <= 1000
        ended.append(job.id)
    canceled = q.enqueue_call(JobCall(F, failure_ttl=1))
    q.cancel(canceled.id)
    ended.append(canceled.id)
    time.sleep(1.3)
    assert all(q.connection.exists(q.keys.job(i)) == 0 for i in ended)
    assert q.counts() == dict.fromkeys(q.counts(), 0)
    assert q.registry_of(ended[0]) == "finished"  # the index entry stays until a prune
    assert check(q).ok  # stale entries are not live: no missing records
    assert q.prune() == 3
    assert q.registry_of(ended[0]) is None
    # nothing is left behind but the bounded wake-up list and the counters (a few fields, kept on purpose)
    assert sorted(keys_of(q)) == sorted([q.keys.signal, q.keys.stats])


def test_terminal_writes_prune_expired_entries_so_registries_stay_bounded(q: Queue) -> None:
    t = time.time()
    for i in range(50):  # 50 jobs, each finished with a 1 s lifetime, one second apart
        job = q.enqueue_call(JobCall(F, result_ttl=1), now=t + i)
        claimed = lifecycle.claim(q, "w", now=t + i)
        assert claimed is not None and claimed.id == job.id
        lifecycle.complete(q, claimed, Outcome(JobStatus.FINISHED, {}), worker="w", now=t + i)
        assert q.connection.zcard(q.keys.finished) <= 2  # never more than the live ones plus one
    c1, c2 = q.enqueue_call(JobCall(F, failure_ttl=1)), q.enqueue_call(JobCall(F, failure_ttl=1))
    q.cancel(c1.id, now=t)
    q.cancel(c2.id, now=t + 5)
    assert q.connection.zrange(q.keys.canceled, 0, -1) == [c2.id]
