"""`taskctl scheduler tick`, `taskctl tasks next` and `taskctl tasks run` (in-process CLI)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from scheduler_core.conf import reset_config
from scheduler_core.queues.queue import get_queue
from scheduler_core.scheduler import Scheduler
from scheduler_core.scheduler.upcoming import upcoming
from tests.cli import cli
from tests.scheduling import T0, ids_in, make_task

pytestmark = pytest.mark.django_db


def test_tick_runs_one_pass(django_capture_on_commit_callbacks: Any) -> None:
    now = datetime.now(UTC)
    make_task(django_capture_on_commit_callbacks, type="repeatable", interval=3600, at=now, name="hourly")
    out = cli("scheduler", "tick", "-o", "json")
    assert out.code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "scheduler-pass" and doc["leader"] is True and doc["planned"] == 1
    assert len(ids_in("queued")) == 1  # due already: queued directly
    out = cli("scheduler", "tick", "-o", "plain")  # the first tick released the lock: this one leads too
    assert out.code == 0 and out.stderr == ""
    leader, recovered, tasks, planned = out.stdout.split("\t")[:4]
    assert (leader, recovered, tasks, planned) == ("yes", "0", "0", "0")


def test_tick_while_another_scheduler_leads_does_nothing() -> None:
    other = Scheduler()
    assert other.leader.ensure()
    try:
        out = cli("scheduler", "tick", "-o", "json")
        assert out.code == 0 and json.loads(out.stdout)["leader"] is False
        assert out.stderr == "another scheduler holds the lock: this pass did nothing\n"
    finally:
        other.leader.release()


def test_tick_with_the_broker_down_exits_69(settings: Any) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "BROKER_URL": "redis://127.0.0.1:1/0", "CONNECT_TIMEOUT": 0.5}
    reset_config()
    out = cli("scheduler", "tick")
    assert out.code == 69 and "unreachable" in out.stderr and "Traceback" not in out.stderr


def test_next_marks_dst_shifts(django_capture_on_commit_callbacks: Any) -> None:
    make_task(django_capture_on_commit_callbacks, type="cron", cron="30 2 * * *", timezone="Europe/Berlin",
              name="berlin", now=T0)  # fmt: skip
    data = upcoming("berlin", 4, now=datetime(2030, 3, 29, 12, tzinfo=UTC))
    rows = data["occurrences"]
    assert [r["local"] for r in rows] == ["2030-03-30 02:30:00", "2030-03-31 03:00:00", "2030-04-01 02:30:00",
                                          "2030-04-02 02:30:00"]  # fmt: skip
    assert [r["offset"] for r in rows] == ["+01:00", "+02:00", "+02:00", "+02:00"]
    assert rows[0]["note"] == "" and rows[1]["note"] == "UTC offset +01:00 -> +02:00 (DST starts)"
    assert rows[1]["utc"] == datetime(2030, 3, 31, 1, tzinfo=UTC)


def test_next_cli(django_capture_on_commit_callbacks: Any) -> None:
    make_task(django_capture_on_commit_callbacks, type="repeatable", interval=90, at=T0, name="poll")
    out = cli("tasks", "next", "poll", "--count", "3", "-o", "json")
    assert out.code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "task-occurrences" and doc["timezone"] == "UTC"
    assert [o["utc"] for o in doc["occurrences"]] == ["2030-01-07T12:00:00Z", "2030-01-07T12:01:30Z",
                                                      "2030-01-07T12:03:00Z"]  # fmt: skip
    out = cli("tasks", "next", "poll", "-n", "2", "-o", "plain")
    assert out.stdout.splitlines()[0].split("\t")[:4] == [
        "1",
        "2030-01-07 12:00:00",
        "+00:00",
        "2030-01-07 12:00:00",
    ]


@pytest.mark.parametrize(
    ("args", "code"), [(["nope"], 3), (["poll", "--count", "0"], 3), (["poll", "-n", "x"], 2)]
)
def test_next_bad_input(django_capture_on_commit_callbacks: Any, args: list[str], code: int) -> None:
    make_task(django_capture_on_commit_callbacks, type="repeatable", interval=90, at=T0, name="poll")
    out = cli("tasks", "next", *args)
    assert out.code == code and out.stdout == ""


def test_run_enqueues_now_outside_the_schedule(django_capture_on_commit_callbacks: Any) -> None:
    task = make_task(django_capture_on_commit_callbacks, type="once", at=T0, name="once",
                     callable="tests.jobs.add", args=[1, 2], queue="high")  # fmt: skip
    out = cli("tasks", "run", "once")
    assert out.code == 0, out.stderr
    job_id = out.stdout.strip()
    assert job_id.startswith(f"task-{task.pk}-run-")
    job = get_queue("high").fetch_job(job_id)
    assert job is not None and job.status.value == "queued" and job.args == [1, 2] and job.task_id == task.pk
    task.refresh_from_db()
    assert task.next_run_at == T0  # the schedule is untouched
    assert cli("tasks", "run", "missing").code == 3
