"""Every registry move of the broker, against the real Redis, with an injected clock."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler_core.errors import InvalidInput, UsageError
from scheduler_core.jobs.record import Job, JobStatus, Retry
from scheduler_core.queues import lifecycle
from scheduler_core.queues.invariants import check
from scheduler_core.queues.lifecycle import Outcome
from scheduler_core.queues.queue import JobCall, Queue, get_queue

F = "tests.jobs.noop"


@pytest.fixture
def q() -> Queue:
    return get_queue("default")


def ids(q: Queue, registry: str, now: float | None = None) -> list[str]:
    return q.job_ids(registry, limit=10_000, now=now)


def score(q: Queue, registry: str, job_id: str) -> float | None:
    return q.connection.zscore(q.keys.registry(registry), job_id)


def active_job(q: Queue, now: float, **opts: Any) -> tuple[str, Job]:
    j = q.enqueue_call(JobCall(F, **opts), now=now)
    claimed = lifecycle.claim(q, "w1", now=now)
    assert claimed is not None and claimed.id == j.id
    return j.id, claimed


def test_enqueue_back_and_front(q: Queue) -> None:
    t = time.time()
    a = q.enqueue(F)
    b = q.enqueue("tests.jobs.add", 1, 2)
    c = q.enqueue_call(JobCall(F, at_front=True))
    assert ids(q, "queued") == [c.id, a.id, b.id]
    job = q.fetch_job(b.id)
    assert job is not None and job.status is JobStatus.QUEUED and job.args == [1, 2]
    assert job.enqueued_at is not None and abs(job.enqueued_at.timestamp() - t) < 5
    assert q.counts()["queued"] == 3 and check(q).ok


@pytest.mark.parametrize(
    "opts",
    [{}, {"at_front": True}, {"at": 1_000.0}, {"at": 10**10, "at_front": True}, {"retry": Retry(2, (5,))}],
    ids=["queued", "front", "at-in-the-past", "scheduled-front", "retry"],
)
def test_enqueue_returns_the_job_as_stored(q: Queue, opts: dict[str, Any]) -> None:
    returned = q.enqueue_call(JobCall(F, **opts))
    stored = q.fetch_job(returned.id)
    assert stored is not None
    want, got = returned.to_dict(), stored.to_dict()
    assert got == want


def test_enqueue_at_and_in_go_to_scheduled(q: Queue) -> None:
    t = time.time()
    later = q.enqueue_in(60, F)

    at = q.enqueue_at(datetime.now(UTC) + timedelta(hours=1), F)
    past = q.enqueue_call(JobCall(F, at=t - 10))  # a due time in the past is queued now
    assert ids(q, "scheduled") == [later.id, at.id]
    assert ids(q, "queued") == [past.id]
    s = score(q, "scheduled", later.id)
    assert s is not None and t + 59 < s < t + 62
    rec = q.fetch_job(at.id)
    assert rec is not None and rec.status is JobStatus.SCHEDULED and rec.due_at is not None
    with pytest.raises(InvalidInput, match="no timezone"):
        q.enqueue_at(datetime(2030, 1, 1), F)


def test_promote_due_in_batches_with_front_and_limit(q: Queue) -> None:
    t = 1_000_000.0
    back = [q.enqueue_call(JobCall(F, at=t + i), now=t - 100).id for i in range(25)]
    front = [q.enqueue_call(JobCall(F, at=t + 0.5 + i, at_front=True), now=t - 100).id for i in range(3)]
    not_due = q.enqueue_call(JobCall(F, at=t + 1000), now=t - 100).id
    waiting = q.enqueue(
        F,
    ).id  # already queued: the front jobs go before it
    assert q.promote_due(now=t + 30, limit=10) == 28
    queued = ids(q, "queued")
    assert queued[:3] == front  # due order kept at the front
    assert queued[3] == waiting and queued[4:] == back
    assert ids(q, "scheduled") == [not_due]
    assert {j.status for j in q.jobs("queued", limit=100)} == {JobStatus.QUEUED}
    assert q.next_due() == t + 1000
    assert check(q).ok


def test_promote_goes_on_past_a_batch_of_dangling_ids(q: Queue) -> None:
    t = 1_000_000.0
    jobs = [q.enqueue_call(JobCall(F, at=t + i), now=t - 100).id for i in range(15)]
    q.connection.delete(*(q.keys.job(i) for i in jobs[:10]))  # records gone, ids left behind
    assert q.promote_due(now=t + 100, limit=10) == 5
    assert ids(q, "queued") == jobs[10:] and ids(q, "scheduled") == []


def test_claim_moves_queued_to_active_with_a_lease(q: Queue) -> None:
    t = time.time()
    j = q.enqueue(F)
    ghost = q.enqueue(F)
    q.connection.delete(q.keys.job(ghost.id))
    nxt = q.enqueue(F)
    got = lifecycle.claim(q, "w1", now=t)
    assert got is not None and got.id == j.id and got.status is JobStatus.ACTIVE and got.worker == "w1"
    assert score(q, "active", j.id) == pytest.approx(t + q.config.lease_ttl)
    got2 = lifecycle.claim(q, "w1", now=t)  # the dangling id is skipped
    assert got2 is not None and got2.id == nxt.id
    assert lifecycle.claim(q, "w1", now=t) is None
    assert q.connection.exists(q.keys.signal) == 0  # an empty claim drops stale wake-ups
    assert check(q).ok


def test_claim_first_respects_queue_order() -> None:
    high, low = get_queue("high"), get_queue("low")
    lj = low.enqueue(F)
    hj = high.enqueue(F)
    first = lifecycle.claim_first([high, low], "w")
    second = lifecycle.claim_first([high, low], "w")
    assert (first and first.id, second and second.id) == (hj.id, lj.id)
    assert lifecycle.claim_first([high, low], "w") is None


@pytest.mark.parametrize(
    ("status", "registry", "ttl_field"),
    [
        (JobStatus.FINISHED, "finished", "result_ttl"),
        (JobStatus.FAILED, "failed", "failure_ttl"),
        (JobStatus.STOPPED, "failed", "failure_ttl"),
        (JobStatus.CANCELED, "canceled", "failure_ttl"),
    ],
)
def test_complete_to_each_terminal_registry_with_its_ttl(
    q: Queue, status: JobStatus, registry: str, ttl_field: str
) -> None:
    t = time.time()
    job_id, job = active_job(q, t, **{ttl_field: 100})
    recorded, nxt = lifecycle.complete(q, job, Outcome(status, {"result": "42"}), worker="w1", now=t)
    assert recorded and nxt is None
    assert score(q, registry, job_id) == pytest.approx(t + 100)
    assert 95 <= q.connection.ttl(q.keys.job(job_id)) <= 100
    assert q.registry_of(job_id) == registry
    rec = q.fetch_job(job_id)
    assert rec is not None and rec.status is status and rec.ended_at is not None
    assert check(q).ok


def test_complete_with_ttl_zero_deletes_and_minus_one_keeps(q: Queue) -> None:
    t = time.time()
    gone, job = active_job(q, t, result_ttl=0)
    assert lifecycle.complete(q, job, Outcome(JobStatus.FINISHED, {}), worker="w1", now=t)[0]
    assert q.connection.exists(q.keys.job(gone)) == 0 and q.registry_of(gone) is None
    kept, job = active_job(q, t, failure_ttl=-1)
    assert lifecycle.complete(q, job, Outcome(JobStatus.FAILED, {"exc_type": "E"}), worker="w1", now=t)[0]
    assert score(q, "failed", kept) == math.inf
    assert q.connection.ttl(q.keys.job(kept)) == -1
    assert q.count("failed", now=t + 10**9) == 1
    assert check(q).ok


def test_complete_claims_the_next_job_in_the_same_call(q: Queue) -> None:
    t = time.time()
    first, job = active_job(q, t)
    second = q.enqueue(F)
    recorded, nxt = lifecycle.complete(
        q,
        job,
        Outcome(JobStatus.FINISHED, {}),
        worker="w1",
        claim_next=True,
        now=t,
    )
    assert recorded and nxt is not None and nxt.id == second.id and nxt.worker == "w1"
    assert q.registry_of(first) == "finished" and q.registry_of(second.id) == "active"
    # nothing left to claim: the outcome is still recorded
    recorded, nxt = lifecycle.complete(
        q, nxt, Outcome(JobStatus.FINISHED, {}), worker="w1", claim_next=True, now=t
    )
    assert recorded and nxt is None
    assert check(q).ok


def test_complete_of_a_job_no_longer_active_changes_nothing(q: Queue) -> None:
    t = time.time()
    job_id, job = active_job(q, t)
    assert lifecycle.reap(q, now=t + q.config.lease_ttl + 1) == [(job_id, "failed")]
    recorded, _ = lifecycle.complete(q, job, Outcome(JobStatus.FINISHED, {}), worker="w1", now=t)
    assert not recorded
    rec = q.fetch_job(job_id)
    assert rec is not None and rec.status is JobStatus.FAILED and rec.exc_type == "WorkerLost"
    assert ids(q, "finished") == [] and check(q).ok


def test_retry_later_goes_to_scheduled_then_back_to_queued(q: Queue) -> None:
    t = 1_000_000.0
    job_id, job = active_job(q, t, retry=Retry(max=2, backoff=(10, 60)))
    assert job.retries_left == 2
    assert lifecycle.retry_later(q, job, 10, {"exc_type": "ValueError"}, now=t)
    assert score(q, "scheduled", job_id) == t + 10
    rec = q.fetch_job(job_id)
    assert (
        rec is not None and rec.status is JobStatus.SCHEDULED and rec.retries_left == 1 and rec.attempt == 2
    )
    assert q.promote_due(now=t + 9) == 0
    assert q.promote_due(now=t + 10) == 1
    assert ids(q, "queued") == [job_id]
    assert not lifecycle.retry_later(q, job, 10, {}, now=t)  # not active any more
    assert check(q).ok


def test_cancel_queued_and_scheduled_but_not_active(q: Queue) -> None:
    t = time.time()
    running, _ = active_job(q, t)
    queued = q.enqueue(F)
    scheduled = q.enqueue_in(3600, F)
    assert q.cancel(queued.id, now=t) and q.cancel(scheduled.id, now=t)
    assert not q.cancel(running, now=t)
    assert not q.cancel("no-such-job", now=t)
    assert sorted(ids(q, "canceled")) == sorted([queued.id, scheduled.id])
    assert ids(q, "queued") == [] and ids(q, "scheduled") == [] and ids(q, "active") == [running]
    rec = q.fetch_job(queued.id)
    assert rec is not None and rec.status is JobStatus.CANCELED
    assert score(q, "canceled", queued.id) == pytest.approx(t + q.config.default_failure_ttl)
    assert check(q).ok


def test_cancel_uses_the_jobs_failure_ttl(q: Queue) -> None:
    t = time.time()
    drop = q.enqueue_call(JobCall(F, failure_ttl=0))
    keep = q.enqueue_call(JobCall(F, failure_ttl=-1))
    short = q.enqueue_call(JobCall(F, failure_ttl=30))
    for j in (drop, keep, short):
        assert q.cancel(j.id, now=t)
    assert q.connection.exists(q.keys.job(drop.id)) == 0 and q.registry_of(drop.id) is None
    assert score(q, "canceled", keep.id) == math.inf and q.connection.ttl(q.keys.job(keep.id)) == -1
    assert score(q, "canceled", short.id) == pytest.approx(t + 30)
    assert 25 <= q.connection.ttl(q.keys.job(short.id)) <= 30
    assert check(q).ok


def _failed(q: Queue, t: float, **opts: object) -> str:
    job_id, job = active_job(q, t, **opts)
    fields = {"exc_type": "RuntimeError", "exc_message": "boom", "traceback": "tb"}
    assert lifecycle.complete(q, job, Outcome(JobStatus.FAILED, fields), worker="w1", now=t)[0]
    return job_id


def test_requeue_failed_and_canceled(q: Queue) -> None:
    t = time.time()
    failed = _failed(q, t)
    canceled = q.enqueue(F)
    q.cancel(canceled.id, now=t)
    assert q.requeue(failed, now=t) and q.requeue(canceled.id, now=t)
    assert not q.requeue(failed, now=t)  # already queued
    assert not q.requeue("missing", now=t)
    assert ids(q, "queued") == [failed, canceled.id]
    rec = q.fetch_job(failed)
    assert rec is not None and rec.status is JobStatus.QUEUED and rec.exc_type == "" and rec.traceback == ""
    assert q.connection.ttl(q.keys.job(failed)) == -1  # a fresh lifetime: no expiry while queued
    assert check(q).ok


def test_requeue_all_in_several_batches(q: Queue) -> None:
    t = time.time()
    failed = [_failed(q, t) for _ in range(620)]
    assert q.requeue_all("failed", now=t) == 620
    assert ids(q, "failed") == [] and sorted(ids(q, "queued")) == sorted(failed)
    with pytest.raises(InvalidInput, match="only failed or canceled"):
        q.requeue_all("finished")
    assert check(q).ok


def test_requeue_of_a_stale_entry_never_duplicates_the_new_job(q: Queue) -> None:
    t = time.time()
    job_id = _failed(q, t, job_id="fixed-id")
    q.connection.delete(q.keys.job(job_id))  # as if its record had expired before a prune
    q.enqueue_call(JobCall(F, job_id="fixed-id"))  # the same id is enqueued again
    assert not q.requeue("fixed-id", now=t)
    assert ids(q, "queued") == ["fixed-id"] and ids(q, "failed") == []
    assert check(q).ok


def test_delete_from_any_registry_but_active(q: Queue) -> None:
    t = time.time()
    failed = _failed(q, t)
    running, _ = active_job(q, t)
    queued, scheduled = q.enqueue(F), q.enqueue_in(60, F)
    for job_id in (queued.id, scheduled.id, failed):
        assert q.delete(job_id)
        assert q.registry_of(job_id) is None and q.connection.exists(q.keys.job(job_id)) == 0
    assert not q.delete(queued.id)
    with pytest.raises(UsageError, match="is running"):
        q.delete(running)
    assert ids(q, "active") == [running] and q.fetch_job(running) is not None
    assert check(q).ok


def _seed_every_registry(q: Queue, t: float) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {
        r: [] for r in ("scheduled", "queued", "active", "finished", "failed", "canceled")
    }
    for _ in range(3):
        done_id, running = active_job(q, t)
        lifecycle.complete(q, running, Outcome(JobStatus.FINISHED, {}), worker="w1", now=t)
        out["finished"].append(done_id)
        out["failed"].append(_failed(q, t))
        out["active"].append(active_job(q, t)[0])
        c = q.enqueue(F)
        q.cancel(c.id, now=t)
        out["canceled"].append(c.id)
        out["scheduled"].append(q.enqueue_in(600, F).id)
    out["queued"] = [q.enqueue(F).id for _ in range(3)]
    return out


@pytest.mark.parametrize("registry", ["scheduled", "queued", "finished", "failed", "canceled"])
def test_clear_one_registry(q: Queue, registry: str) -> None:
    t = time.time()
    seeded = _seed_every_registry(q, t)
    assert q.clear(registry) == 3
    counts = q.counts(now=t)
    assert counts[registry] == 0
    assert all(counts[r] == 3 for r in seeded if r != registry)
    assert all(q.connection.exists(q.keys.job(i)) == 0 for i in seeded[registry])
    assert check(q, now=t).ok


def test_clear_active_is_refused_and_unknown_registry_is_invalid(q: Queue) -> None:
    with pytest.raises(InvalidInput, match="cannot be cleared"):
        q.clear("active")
    with pytest.raises(InvalidInput, match="unknown registry 'done'") as exc:
        q.clear("done")
    assert exc.value.exit_code == 3


def test_reap_with_and_without_retries(q: Queue) -> None:
    t = 1_000_000.0
    lease = q.config.lease_ttl
    again, _ = active_job(q, t, retry=Retry(max=1))
    dead, _ = active_job(q, t, failure_ttl=-1)
    fresh, _ = active_job(q, t + lease)  # its lease runs to t + 2 * lease
    out = dict(lifecycle.reap(q, now=t + lease + 1))
    assert out == {again: "retrying", dead: "failed"}
    # retried as a job that raised is: scheduled after its backoff (0 s by default)
    assert ids(q, "active") == [fresh] and ids(q, "scheduled") == [again]
    assert score(q, "scheduled", again) == t + lease + 1
    r = q.fetch_job(again)
    assert r is not None and r.retries_left == 0 and r.attempt == 2 and r.exc_type == "WorkerLost"
    d = q.fetch_job(dead)
    assert d is not None and d.status is JobStatus.FAILED and "lease expired" in d.exc_message
    assert score(q, "failed", dead) == math.inf
    # the retried job, claimed and lost again with no retries left, fails
    assert q.promote_due(now=t + lease + 2) == 1
    assert lifecycle.claim(q, "w2", now=t + lease + 2) is not None
    assert dict(lifecycle.reap(q, now=t + 3 * lease)) == {again: "failed", fresh: "failed"}
    assert score(q, "failed", fresh) == t + 3 * lease + q.config.default_failure_ttl
    assert check(q, now=t).ok


def test_a_worker_that_lost_the_lease_cannot_record_over_the_new_run(q: Queue) -> None:
    t = 1_000_000.0
    lease = q.config.lease_ttl
    job_id, stale = active_job(q, t, retry=Retry(max=2, backoff=(5,)))  # claimed by w1, which stalls
    assert dict(lifecycle.reap(q, now=t + lease + 1)) == {job_id: "retrying"}
    assert score(q, "scheduled", job_id) == t + lease + 6  # its backoff, as for a job that raised
    assert q.promote_due(now=t + lease + 6) == 1
    again = lifecycle.claim(q, "w2", now=t + lease + 2)
    assert again is not None and again.id == job_id
    # w1 wakes up and reports, as finished and as a failure to retry: neither is recorded
    assert lifecycle.complete(q, stale, Outcome(JobStatus.FINISHED, {}), worker="w1", now=t + lease + 3) == (
        False,
        None,
    )
    assert not lifecycle.retry_later(q, stale, 5, {}, now=t + lease + 3)
    now_running = q.fetch_job(job_id)
    assert now_running is not None and now_running.status is JobStatus.ACTIVE and now_running.worker == "w2"
    assert ids(q, "active") == [job_id]
    # w2's own outcome is recorded
    assert lifecycle.complete(q, again, Outcome(JobStatus.FINISHED, {}), worker="w2", now=t + lease + 4)[0]
    assert q.registry_of(job_id) == "finished" and check(q, now=t).ok


def test_another_process_of_the_same_worker_reclaiming_the_job_is_fenced_too(q: Queue) -> None:
    """Every execution process of a worker claims under the worker's name: the run is told by
    its claim's start time, so a stale process of the same worker cannot record either."""
    t = 1_000_000.0
    lease = q.config.lease_ttl
    job_id, stale = active_job(q, t, retry=Retry(max=2, backoff=(5,)))
    assert dict(lifecycle.reap(q, now=t + lease + 1)) == {job_id: "retrying"}
    assert q.promote_due(now=t + lease + 6) == 1
    again = lifecycle.claim(q, "w1", now=t + lease + 2)  # the same worker name, a new run
    assert again is not None and again.id == job_id
    late = Outcome(JobStatus.FAILED, {"exc_type": "E"})
    assert lifecycle.complete(q, stale, late, worker="w1", now=t + lease + 3) == (False, None)
    assert not lifecycle.retry_later(q, stale, 5, {}, now=t + lease + 3)
    assert q.registry_of(job_id) == "active"
    assert lifecycle.complete(q, again, Outcome(JobStatus.FINISHED, {}), worker="w1", now=t + lease + 4)[0]
    assert q.registry_of(job_id) == "finished" and check(q, now=t).ok


def test_renew_leases_only_moves_jobs_still_active(q: Queue) -> None:
    t = 1_000_000.0
    running, _ = active_job(q, t)
    lost, _ = active_job(q, t)
    q.connection.zrem(q.keys.active, lost)  # as if the reaper had taken it
    lifecycle.renew_leases(q, [running, lost, "never-there"], now=t + 20)
    assert score(q, "active", running) == t + 20 + q.config.lease_ttl
    assert ids(q, "active") == [running]
    lifecycle.renew_leases(q, [], now=t)  # nothing to do, no error


def test_reap_leaves_a_job_whose_lease_was_renewed_meanwhile(q: Queue) -> None:
    """The reaper moves a job only if its lease is still expired when the move runs: a worker
    whose heartbeat renewed it between the reaper's read and its move keeps the job."""
    t = 1_000_000.0
    lease = q.config.lease_ttl
    job_id, job = active_job(q, t)
    lifecycle.renew_leases(q, [job_id], now=t + lease + 5)  # renewed after the reaper's "now"
    fields = {"exc_type": "WorkerLost", "exc_message": "x"}
    lost = Outcome(JobStatus.FAILED, fields)
    assert lifecycle.complete(
        q, job, lost, worker="w1", now=t + lease + 1, lease_expired_by=t + lease + 1
    ) == (
        False,
        None,
    )
    assert not lifecycle.retry_later(q, job, 0, fields, now=t + lease + 1, lease_expired_by=t + lease + 1)
    assert lifecycle.reap(q, now=t + lease + 1) == [] and ids(q, "active") == [job_id]


def test_reap_fails_an_unreadable_record_and_drops_a_dangling_id(q: Queue) -> None:
    t = 1_000_000.0
    lease = q.config.lease_ttl
    bad, _ = active_job(q, t, retry=Retry(max=3))
    gone, _ = active_job(q, t)
    q.connection.hset(q.keys.job(bad), "spec", "{not json")
    q.connection.delete(q.keys.job(gone))
    assert lifecycle.reap(q, now=t + lease + 1) == [(bad, "failed")]
    assert ids(q, "active") == [] and score(q, "failed", bad) is not None
    assert q.connection.hget(q.keys.job(bad), "exc_type") == "WorkerLost"
