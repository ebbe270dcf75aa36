"""MAX_RESULT_BYTES: a huge result is replaced by a marker and the job still finishes; tables
never print a value of megabytes (plain and json keep it whole)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scheduler_core.conf import parse_config
from scheduler_core.jobs.record import JobStatus
from scheduler_core.queues.lifecycle import Outcome, claim, complete
from scheduler_core.queues.queue import JobCall, get_queue
from scheduler_core.worker.running import result_fields
from tests.cli import cli
from tests.processes import WorkerProc


def test_default_limit_is_16_mib_and_configurable() -> None:
    assert parse_config({}).max_result_bytes == 16 * 1024 * 1024
    assert parse_config({"MAX_RESULT_BYTES": "1000"}).max_result_bytes == 1000


def test_a_result_over_the_limit_becomes_a_marker() -> None:
    limit = 16 * 1024 * 1024
    fields = result_fields("y" * (limit + 1), limit)
    marker = json.loads(fields["result"])
    assert fields["result_repr"] == "1" and fields["result_bytes"] == limit + 3  # with its quotes
    assert marker == f"<result not stored: {limit + 3} bytes of JSON, over MAX_RESULT_BYTES ({limit})>"
    assert result_fields("y" * 100, limit) == {"result": b'"' + b"y" * 100 + b'"'}
    assert json.loads(result_fields(list(range(10)), 0)["result"]) == list(range(10))  # 0: no limit


@pytest.mark.process
def test_worker_finishes_a_job_with_a_huge_result(worker: WorkerProc, tmp_path: Path) -> None:
    q = get_queue("default")
    job = q.enqueue("tests.jobs.big", 5_000_000)
    ok = q.enqueue("tests.jobs.big", 10)
    env_worker = worker.env

    def env() -> dict[str, str]:
        return {**env_worker(), "TASKCTL_MAX_RESULT_BYTES": "1000000"}

    worker.env = env  # type: ignore[method-assign]
    proc = worker.start("--burst", wait=False)
    assert proc.wait(60) == 0, worker.stderr()
    got = q.fetch_job(job.id)
    assert got is not None and got.status is JobStatus.FINISHED and got.result_is_repr
    assert got.result == "<result not stored: 5000002 bytes of JSON, over MAX_RESULT_BYTES (1000000)>"
    small = q.fetch_job(ok.id)
    assert small is not None and small.result == "x" * 10 and not small.result_is_repr


def test_tables_cut_huge_values_plain_and_json_keep_them() -> None:
    q = get_queue("default")
    q.enqueue_call(JobCall("tests.jobs.add", ("a" * 3_000_000, 1), job_id="huge"))
    job = claim(q, "w1")
    assert job is not None
    complete(q, job, Outcome(JobStatus.FINISHED, {"result": json.dumps("r" * 3_000_000)}), worker="w1")
    table = cli("jobs", "show", "huge", "-o", "table")
    assert table.code == 0 and len(table.stdout) < 20_000, len(table.stdout)
    flat = "".join(table.stdout.split())  # the table folds long cells over lines
    assert "3000006charactersinall;-ojsonshowsitwhole" in flat  # args
    assert "3000002charactersinall" in flat  # result
    doc = json.loads(cli("jobs", "show", "huge", "-o", "json").stdout)
    assert doc["args"][0] == "a" * 3_000_000 and doc["result"] == "r" * 3_000_000
    assert "a" * 3_000_000 in cli("jobs", "show", "huge", "-o", "plain").stdout
    listing = cli("jobs", "list", "default", "-r", "finished", "-o", "table")
    assert listing.code == 0 and len(listing.stdout) < 20_000
    assert "charactersinall" in "".join(listing.stdout.split())
