"""`taskctl jobs ...` on a real Redis: list, show, enqueue, requeue, cancel, stop, delete."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from scheduler_core.broker.connection import get_client
from scheduler_core.broker.keys import GlobalKeys
from scheduler_core.conf import get_config, reset_config
from scheduler_core.jobs.record import JobStatus
from scheduler_core.queues.lifecycle import Outcome, claim, complete
from scheduler_core.queues.queue import get_queue
from scheduler_core.worker.commands import decode
from scheduler_core.worker.heartbeat import Heartbeat
from tests.cli import NOW, cli, golden
from tests.data import digest, fill

pytestmark = pytest.mark.usefixtures("clock")


def q(name: str = "default"):
    return get_queue(name)


# ----- list -----
@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
def test_list_golden(fmt: str) -> None:
    fill()
    out = cli("jobs", "list", "default", "-o", fmt)
    assert out.code == 0, out.stderr
    golden(f"jobs_list.{fmt}", out.stdout)


def test_list_registries_and_paging() -> None:
    fill()
    ids = lambda *a: [line.split("\t")[0] for line in cli("jobs", "list", *a).stdout.splitlines()]  # noqa: E731
    assert ids("default") == ["job-q1", "job-q2", "job-q3"]
    assert ids("default", "--limit", "2", "--offset", "1") == ["job-q2", "job-q3"]
    assert ids("default", "-r", "scheduled") == ["job-s1", "job-s2"]
    assert ids("default", "-r", "active") == ["job-active"]
    assert ids("default", "-r", "failed") == ["job-failed"]
    assert ids("default", "-r", "canceled") == ["job-canceled"]
    doc = json.loads(cli("jobs", "list", "default", "-n", "1", "-o", "json").stdout)
    assert (doc["kind"], doc["version"], doc["total"], len(doc["jobs"])) == ("jobs", 1, 3, 1)
    assert doc["jobs"][0]["args"] == [10, 20]


def test_list_errors() -> None:
    out = cli("jobs", "list", "nope")
    assert (out.code, out.stderr.strip()) == (
        3, "taskctl: error: unknown queue 'nope' (configured: default, high, low)"
    )  # fmt: skip
    out = cli("jobs", "list", "default", "-r", "bogus")
    assert out.code == 3 and "unknown registry 'bogus'" in out.stderr


# ----- show -----
@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
@pytest.mark.parametrize("job_id", ["job-failed", "job-finished"])
def test_show_golden(fmt: str, job_id: str) -> None:
    fill()
    out = cli("jobs", "show", job_id, "-o", fmt)
    assert out.code == 0, out.stderr
    golden(f"jobs_show_{job_id.removeprefix('job-')}.{fmt}", out.stdout)


def test_show_fields() -> None:
    fill()
    doc = json.loads(cli("jobs", "show", "job-failed", "-o", "json").stdout)
    assert doc["kind"] == "job" and doc["status"] == "failed" and doc["registry"] == "failed"
    assert doc["exc_type"] == "RuntimeError" and "RuntimeError: boom" in doc["traceback"]
    assert doc["worker"] == "w1" and doc["args"] == [1, 2]
    assert doc["ended_at"] == "2026-09-21T14:09:00Z"
    assert doc["task"] is None and doc["occurrence"] is None
    doc = json.loads(cli("jobs", "show", "job-h1", "--queue", "high", "-o", "json").stdout)
    assert doc["queue"] == "high" and doc["registry"] == "queued"


def test_show_unknown_job_exits_3() -> None:
    out = cli("jobs", "show", "missing")
    assert (out.code, out.stderr) == (3, "taskctl: error: job 'missing' not found\n")
    out = cli("jobs", "show", "job-q1", "--queue", "high")
    assert (out.code, out.stderr) == (3, "taskctl: error: job 'job-q1' not found in queue 'high'\n")


# ----- enqueue -----
def test_enqueue_parses_args_as_json_or_text() -> None:
    out = cli(
        "jobs", "enqueue", "tests.jobs.add", "1", "[2, 3]", "hello", '"7"', "-k", "x=true", "-k", "y=a=b"
    )
    assert out.code == 0, out.stderr
    job_id = out.stdout.strip()
    assert len(job_id) == 32 and out.stdout == job_id + "\n"
    job = q().fetch_job(job_id)
    assert job is not None and job.status.value == "queued"
    assert job.args == [1, [2, 3], "hello", "7"] and job.kwargs == {"x": True, "y": "a=b"}


def test_enqueue_at_and_in() -> None:
    out = cli("jobs", "enqueue", "tests.jobs.noop", "--queue", "high", "--at", "2030-01-01T01:00:00+01:00")
    assert out.code == 0, out.stderr
    job = q("high").fetch_job(out.stdout.strip())
    assert job is not None and job.status.value == "scheduled"
    assert job.due_at == datetime(2030, 1, 1, tzinfo=UTC)
    before = time.time()
    doc = json.loads(cli("jobs", "enqueue", "tests.jobs.noop", "--in", "15m", "-o", "json").stdout)
    assert doc["kind"] == "job" and doc["status"] == "scheduled"
    due = q().fetch_job(doc["id"]).due_at.timestamp()
    assert before + 900 <= due <= time.time() + 900


@pytest.mark.parametrize(("text", "seconds"), [("1h30m", 5400), ("1.5h", 5400), ("90", 90), ("2d", 172800)])
def test_enqueue_in_takes_manifest_and_decimal_durations(text: str, seconds: int) -> None:
    before = time.time()
    out = cli("jobs", "enqueue", "tests.jobs.noop", "--in", text)
    assert out.code == 0, out.stderr
    due = q().fetch_job(out.stdout.strip()).due_at.timestamp()
    assert before + seconds - 1 <= due <= time.time() + seconds + 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("nope.missing",), 3, "callable 'nope.missing': no module 'nope'"),
        (("tests.jobs.absent",), 3, "callable 'tests.jobs.absent': tests.jobs has no attribute 'absent'"),
        (("noop",), 3, "callable 'noop' is not a dotted path like 'package.module.function'"),
        (
            ("tests.jobs.noop", "--at", "2030-01-01T00:00:00"),
            3,
            "time '2030-01-01T00:00:00' has no UTC offset",
        ),
        (("tests.jobs.noop", "--at", "tomorrow"), 3, "time 'tomorrow': expected ISO-8601"),
        (("tests.jobs.noop", "--in", "soon"), 3, "duration 'soon': expected seconds or a duration"),
        (("tests.jobs.noop", "--in", "1m", "--at", "2030-01-01T00:00:00Z"), 2, "give --at or --in, not both"),
        (("tests.jobs.noop", "-k", "novalue"), 3, "--kwarg 'novalue': expected KEY=VALUE"),
        (("tests.jobs.noop", "--queue", "nope"), 3, "unknown queue 'nope'"),
    ],
)
def test_enqueue_errors_write_nothing(
    key_prefix: str, args: tuple[str, ...], code: int, message: str
) -> None:
    before = digest(key_prefix)
    out = cli("jobs", "enqueue", *args)
    assert out.code == code
    assert out.stderr.startswith(f"taskctl: error: {message}") and out.stderr.count("\n") == 1
    assert out.stdout == ""
    assert digest(key_prefix) == before


# ----- requeue / cancel / delete / stop -----
def test_requeue_one_and_all_failed() -> None:
    fill()
    out = cli("jobs", "requeue", "job-failed")
    assert (out.code, out.stderr) == (0, "requeued job job-failed (queue 'default')\n")
    assert q().registry_of("job-failed") == "queued"
    out = cli("jobs", "requeue", "job-canceled", "-o", "json")
    assert json.loads(out.stdout) == {
        "version": 1, "kind": "job-action", "action": "requeued", "id": "job-canceled", "queue": "default"
    }  # fmt: skip
    assert (
        cli("jobs", "requeue", "--all-failed", "default").stderr
        == "requeued 0 failed job(s) of queue 'default'\n"
    )


def test_requeue_all_failed_moves_every_failed_job() -> None:
    fill()
    for _ in range(3):  # fail the three queued jobs too
        job = claim(q(), "w1", now=NOW)
        assert job is not None
        complete(q(), job, Outcome(JobStatus.FAILED, {}), worker="w1", now=NOW)
    out = cli("jobs", "requeue", "--all-failed", "default", "-o", "json")
    assert json.loads(out.stdout)["count"] == 4
    assert q().counts(now=NOW)["failed"] == 0 and q().counts(now=NOW)["queued"] == 4


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("requeue", "job-q1"), 3, "job job-q1 is queued: only failed or canceled jobs can be requeued"),
        (("requeue",), 2, "give a job ID or --all-failed QUEUE (one of them)"),
        (("requeue", "job-failed", "--all-failed", "default"), 2, "give a job ID or --all-failed QUEUE"),
        (("requeue", "--all-failed", "nope"), 3, "unknown queue 'nope'"),
        (("requeue", "missing"), 3, "job 'missing' not found"),
        (
            ("cancel", "job-active"),
            3,
            "job job-active is active: only queued or scheduled jobs can be canceled",
        ),
        (("cancel", "missing"), 3, "job 'missing' not found"),
        (
            ("delete", "job-active"),
            2,
            "job job-active is running: stop it first (taskctl jobs stop job-active)",
        ),
        (("delete", "missing"), 3, "job 'missing' not found"),
        (("stop", "job-q1"), 3, "job job-q1 is queued, not running: nothing to stop"),
        (("stop", "missing"), 3, "job 'missing' not found"),
    ],
)
def test_action_errors(key_prefix: str, args: tuple[str, ...], code: int, message: str) -> None:
    fill()
    before = digest(key_prefix)
    out = cli("jobs", *args)
    assert out.code == code, out.stderr
    assert out.stderr.startswith(f"taskctl: error: {message}") and out.stderr.count("\n") == 1
    assert digest(key_prefix) == before


def test_cancel_and_delete() -> None:
    fill()
    out = cli("jobs", "cancel", "job-s1")
    assert (out.code, out.stderr) == (0, "canceled job job-s1 (queue 'default')\n")
    assert q().registry_of("job-s1") == "canceled"
    out = cli("jobs", "delete", "job-failed", "-o", "json")
    assert json.loads(out.stdout)["action"] == "deleted"
    assert q().fetch_job("job-failed") is None and q().registry_of("job-failed") is None


def test_stop_active_job_sends_command() -> None:
    fill()
    cfg = get_config()
    client = get_client(cfg.broker_url)
    Heartbeat("w2", [q()], cfg, client).register(time.time(), 1)  # w2 is live
    sub = client.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(GlobalKeys(cfg.key_prefix).commands)
    out = cli("jobs", "stop", "job-active")
    assert out.code == 0, out.stderr
    assert out.stderr == "asked worker w2 to stop job job-active\n"
    msg, end = None, time.monotonic() + 3
    while msg is None and time.monotonic() < end:  # the first read may be the subscribe reply
        msg = sub.get_message(timeout=0.5)
    assert msg is not None and decode(msg["data"]) == {
        "command": "stop-job",
        "worker": "w2",
        "job_id": "job-active",
    }
    sub.close()


def test_stop_job_of_a_dead_worker_says_so() -> None:
    fill()  # job-active's worker w2 never registered: its lease recovers the job
    out = cli("jobs", "stop", "job-active")
    assert out.code == 3
    assert out.stderr == (
        "taskctl: error: job job-active: its worker 'w2' is not running; "
        "the job is recovered when its lease expires\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("list", "default"),
        ("show", "job-q1"),
        ("enqueue", "tests.jobs.noop"),
        ("cancel", "x"),
        ("delete", "x"),
    ],
)
def test_unreachable_broker_exits_69(settings, args: tuple[str, ...]) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "BROKER_URL": "redis://127.0.0.1:1/0"}
    reset_config()
    out = cli("jobs", *args)
    assert out.code == 69
    assert len(out.stderr.strip().splitlines()) == 1 and "unreachable" in out.stderr
