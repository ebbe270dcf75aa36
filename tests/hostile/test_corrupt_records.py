"""Item 4: a corrupt job record (spec not JSON, missing fields, mistyped fields, a key that is not
even a hash) goes straight to failed as `corrupt record` when claimed (no retry, no crash), and
every view and action over it works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scheduler_core.jobs.record import JobStatus
from scheduler_core.queues.lifecycle import CORRUPT as EXC_TYPE
from scheduler_core.queues.lifecycle import Outcome, claim, complete
from scheduler_core.queues.queue import Queue, get_queue
from tests.cli import cli
from tests.processes import WorkerProc, assert_clean

CORRUPT: dict[str, Callable[[Any, str], None]] = {
    "spec-not-json": lambda r, k: r.hset(k, mapping={"spec": "{not json", "retries_left": 3}),
    "spec-a-list": lambda r, k: r.hset(k, mapping={"spec": "[1, 2]", "status": "queued"}),
    "no-spec": lambda r, k: r.hset(k, mapping={"status": "queued", "retries_left": 3}),
    "no-callable": lambda r, k: r.hset(k, mapping={"spec": '{"args": []}', "status": "queued"}),
    "args-a-string": lambda r, k: r.hset(k, mapping={"spec": '{"callable": "tests.jobs.noop", "args": "x"}'}),
    "timeout-a-string": lambda r, k: r.hset(k, "spec", '{"callable": "tests.jobs.noop", "timeout": "soon"}'),
    "meta-a-list": lambda r, k: r.hset(k, mapping={"spec": '{"callable": "tests.jobs.noop", "meta": []}'}),
    "bad-attempt": lambda r, k: r.hset(k, mapping={"spec": '{"callable": "tests.a.b"}', "attempt": "x"}),
    "a-string-key": lambda r, k: r.set(k, "hello"),
    "a-list-key": lambda r, k: r.rpush(k, "a", "b"),
}


def _plant(q: Queue, name: str) -> str:
    job_id = f"corrupt-{name}"
    r = q.connection
    CORRUPT[name](r, q.keys.job(job_id))
    r.rpush(q.keys.queued, job_id)
    return job_id


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_claim_fails_a_corrupt_record_at_once(name: str) -> None:
    q = get_queue("default")
    bad = _plant(q, name)
    good = q.enqueue("tests.jobs.noop")
    claimed = claim(q, "w1")
    assert claimed is not None and claimed.id == good.id  # the next sound job, same call
    assert q.registry_of(bad) == "failed"
    job = q.fetch_job(bad)
    assert job is not None and job.corrupt
    assert job.exc_type == EXC_TYPE and job.exc_message.startswith("corrupt record: ")
    assert claim(q, "w1") is None  # no retry: it is not queued again


def test_finish_and_claim_next_skips_a_corrupt_record() -> None:
    q = get_queue("default")
    first = q.enqueue("tests.jobs.noop")
    job = claim(q, "w1")
    assert job is not None and job.id == first.id
    bad = _plant(q, "spec-not-json")
    good = q.enqueue("tests.jobs.noop")
    recorded, nxt = complete(q, job, Outcome(JobStatus.FINISHED, {}), worker="w1", claim_next=True)
    assert recorded and nxt is not None and nxt.id == good.id
    assert q.registry_of(bad) == "failed"


@pytest.mark.parametrize("name", ["spec-not-json", "a-string-key", "no-spec"])
def test_views_and_actions_over_a_corrupt_record(name: str) -> None:
    q = get_queue("default")
    bad = _plant(q, name)
    listed = cli("jobs", "list", "default", "-o", "json")
    assert listed.code == 0, listed.stderr
    assert '"corrupt"' in listed.stdout and "(corrupt record)" in listed.stdout
    shown = cli("jobs", "show", bad, "-o", "json")
    assert shown.code == 0 and '"corrupt": "' in shown.stdout, shown.stderr
    canceled = cli("jobs", "cancel", bad)
    assert canceled.code == 0, canceled.stderr
    assert q.registry_of(bad) == "canceled"
    deleted = cli("jobs", "delete", bad)
    assert deleted.code == 0, deleted.stderr
    assert q.registry_of(bad) is None


@pytest.mark.process
def test_a_worker_fails_corrupt_records_and_runs_the_rest(key_prefix: str, tmp_path: Any) -> None:
    q = get_queue("default")
    bad = [_plant(q, name) for name in sorted(CORRUPT)]
    good = [q.enqueue("tests.jobs.add", i, 1) for i in range(5)]
    worker = WorkerProc(key_prefix, tmp_path)
    try:
        proc = worker.start("--burst", wait=False)
        assert proc.wait(30) == 0, worker.stderr()
    finally:
        worker.stop_all()
    assert all(q.registry_of(b) == "failed" for b in bad)
    assert [q.fetch_job(g.id).result for g in good] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    assert "Traceback" not in worker.stderr()
    assert_clean(q)
