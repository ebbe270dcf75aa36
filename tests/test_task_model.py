"""Task.full_clean: one clear message per bad field; spec_hash follows the spec only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F

from scheduler_core.conf import reset_config
from scheduler_core.models import Task, TaskSet, TaskType

AT = datetime(2026, 12, 24, 17, tzinfo=UTC)


def make(**kw: Any) -> Task:
    base: dict[str, Any] = {
        "name": "t",
        "type": TaskType.CRON,
        "callable": "tests.jobs.noop",
        "cron": "0 3 * * *",
    }
    base.update(kw)
    return Task(**base)


def errors_of(task: Task) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        task.full_clean()
    return exc.value.message_dict


def only_error(task: Task, field: str) -> str:
    errors = errors_of(task)
    assert list(errors) == [field], errors
    assert len(errors[field]) == 1, errors[field]
    return errors[field][0]


pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "task",
    [
        make(),
        make(cron="*/15 8-18 * * 1-5", timezone="Australia/Lord_Howe", queue="high"),
        make(type=TaskType.REPEATABLE, cron="", interval=900, repeat=10, at=AT),
        make(type=TaskType.REPEATABLE, cron="", interval=60),
        make(type=TaskType.ONCE, cron="", at=AT, callable="tests.jobs.add", args=[1, 2]),
        make(on_success="tests.jobs.noop", on_failure="tests.jobs.fail", retry_max=3, retry_backoff=[10, 60]),
    ],
    ids=["cron", "cron-tz", "repeatable", "repeatable-forever", "once", "callbacks"],
)
def test_valid_tasks_pass(task: Task) -> None:
    task.full_clean()
    task.save()
    assert Task.objects.get(pk=task.pk).spec_hash == task.compute_spec_hash()


@pytest.mark.parametrize(
    ("task", "field", "message"),
    [
        (make(cron="61 * * * *"), "cron", 'invalid cron "61 * * * *"'),
        (make(cron="0 3 * *"), "cron", "expected 5 fields"),
        (make(cron="0 0 30 2 *"), "cron", "never matches"),
        (make(cron=""), "cron", "a cron task needs a cron expression"),
        (make(timezone="Europe/Berlinn"), "timezone", "unknown timezone 'Europe/Berlinn'"),
        (make(type=TaskType.REPEATABLE, cron="", interval=0), "interval", "interval > 0"),
        (make(type=TaskType.REPEATABLE, cron="", interval=None), "interval", "interval > 0"),
        (make(type=TaskType.REPEATABLE, cron="", interval=60, repeat=0), "repeat", "repeat must be >= 1"),
        (make(type=TaskType.ONCE, cron=""), "at", "a once task needs `at`"),
        (make(at=AT), "at", "at does not apply to a cron task"),
        (make(interval=60), "interval", "interval does not apply to a cron task"),
        (make(type=TaskType.REPEATABLE, interval=60), "cron", "cron does not apply to a repeatable task"),
        (
            make(type=TaskType.ONCE, cron="", at=AT, repeat=3),
            "repeat",
            "repeat does not apply to a once task",
        ),
        (
            make(type=TaskType.ONCE, cron="", at=AT, timezone="UTC"),
            "timezone",
            "does not apply to a once task",
        ),
        (make(callable="tests.jobs.nope"), "callable", "has no attribute 'nope'"),
        (make(callable="no_such_pkg.jobs.f"), "callable", "no_such_pkg"),
        (make(callable="noop"), "callable", "not a dotted path"),
        (make(on_failure="tests.jobs.missing"), "on_failure", "has no attribute 'missing'"),
        (make(queue="urgent"), "queue", "unknown queue 'urgent' (configured: default, high, low)"),
        (make(retry_backoff=[10, "1m"]), "retry_backoff", "list of seconds"),
        (make(args={"a": 1}), "args", "args must be a list"),
        (make(kwargs=[1]), "kwargs", "kwargs must be a mapping"),
        (make(type="weekly"), "type", "'weekly' is not a valid choice"),
        (make(type=TaskType.REPEATABLE, cron="", interval=-5), "interval", "greater than or equal to 0"),
        (
            make(type=TaskType.REPEATABLE, cron="", interval=60, repeat=-1),
            "repeat",
            "greater than or equal to 0",
        ),
        (make(retry_backoff=[True]), "retry_backoff", "list of seconds"),
        (make(misfire="sometimes"), "misfire", "not a valid choice"),
    ],
)
def test_one_clear_message_per_bad_field(task: Task, field: str, message: str) -> None:
    text = only_error(task, field)
    assert message in text
    assert "\n" not in text


def test_several_bad_fields_each_get_their_message() -> None:
    errors = errors_of(make(cron="bad", timezone="Nowhere/Zone", queue="nope", callable="tests.jobs.nope"))
    assert set(errors) == {"cron", "timezone", "queue", "callable"}
    assert all(len(v) == 1 for v in errors.values())


def test_callable_outside_allowed_callables(settings: Any) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "ALLOWED_CALLABLES": ["examples.", "tests.jobs.add"]}
    reset_config()
    assert "not allowed by ALLOWED_CALLABLES" in only_error(make(callable="tests.jobs.noop"), "callable")
    make(callable="tests.jobs.add").full_clean()
    assert "not allowed" in only_error(make(callable="tests.jobs.add", on_success="os.system"), "on_success")


def test_spec_hash_changes_with_spec_and_not_with_status() -> None:
    task = make()
    task.save()
    original = task.spec_hash
    assert len(original) == 64

    task.next_run_at = AT
    task.last_run_at = AT
    task.last_status = "finished"
    task.run_count = 7
    task.success_count = 7
    task.occurrences = 9
    task.pending_job_id = "abc"
    task.save()
    assert task.spec_hash == original

    for field, value in [
        ("cron", "0 4 * * *"),
        ("timezone", "Asia/Kolkata"),
        ("kwargs", {"x": 1}),
        ("enabled", False),
        ("queue", "low"),
        ("retry_backoff", [5]),
    ]:
        old = getattr(task, field)
        setattr(task, field, value)
        task.save()
        assert task.spec_hash != original, field
        setattr(task, field, old)
        task.save()
        assert task.spec_hash == original, field


def test_spec_hash_normalises_times_to_utc() -> None:
    a = make(name="a", type=TaskType.ONCE, cron="", at=AT)
    b = make(name="b", type=TaskType.ONCE, cron="", at=AT.astimezone(ZoneInfo("Europe/Berlin")))
    assert a.spec()["at"] == "2026-12-24T17:00:00Z"
    assert a.compute_spec_hash() == b.compute_spec_hash()


def test_set_ownership_is_not_part_of_the_spec() -> None:
    task = make()
    task.save()
    before = task.spec_hash
    task.task_set = TaskSet.objects.create(name="billing")
    task.save()
    assert task.spec_hash == before


def test_next_occurrences_uses_the_task_timezone() -> None:
    task = make(cron="30 2 * * *", timezone="Europe/Berlin")
    assert task.next_occurrences(datetime(2026, 3, 29, tzinfo=UTC)) == [datetime(2026, 3, 29, 1, tzinfo=UTC)]
    task.timezone = ""  # blank: settings.TIME_ZONE (UTC in the tests)
    assert task.next_occurrences(datetime(2026, 3, 29, tzinfo=UTC)) == [
        datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    ]


@pytest.mark.django_db
def test_saving_a_stale_instance_keeps_the_status_recorded_meanwhile() -> None:
    make(name="stale").save()
    form_copy = Task.objects.get(name="stale")  # e.g. the admin's change form, opened earlier
    # meanwhile a worker records a run
    Task.objects.filter(name="stale").update(
        run_count=F("run_count") + 1, last_status="finished", last_run_at=AT
    )
    form_copy.description = "edited"
    form_copy.save()
    fresh = Task.objects.get(name="stale")
    assert (fresh.description, fresh.run_count, fresh.last_status, fresh.last_run_at) == (
        "edited",
        1,
        "finished",
        AT,
    )
    assert fresh.spec_hash == fresh.compute_spec_hash()


@pytest.mark.django_db
def test_status_a_caller_sets_itself_is_saved() -> None:
    make(name="own").save()
    task = Task.objects.get(name="own")
    task.next_run_at = AT
    task.save()
    assert Task.objects.get(name="own").next_run_at == AT
