"""The Django admin for Task and TaskSet, driven through the test Client as a superuser."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from scheduler_core.models import Task, TaskSet, TaskType

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 24, 17, tzinfo=UTC)
CHANGELIST = "/admin/scheduler_core/task/"


@pytest.fixture
def client_su() -> Client:
    user = User.objects.create(username="root", is_staff=True, is_superuser=True)  # no password hashing
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def tasks() -> dict[str, Task]:
    billing = TaskSet.objects.create(name="billing")
    out = {
        "cron": Task(
            name="nightly",
            type=TaskType.CRON,
            callable="tests.jobs.noop",
            cron="0 3 * * *",
            timezone="Europe/Berlin",
            task_set=billing,
        ),
        "repeatable": Task(
            name="poll",
            type=TaskType.REPEATABLE,
            callable="tests.jobs.noop",
            interval=900,
            repeat=10,
            queue="high",
        ),
        "once": Task(
            name="migrate",
            type=TaskType.ONCE,
            callable="tests.jobs.add",
            args=[1, 2],
            at=AT,
            enabled=False,
            description="one-off data fix",
        ),
    }
    for t in out.values():
        t.full_clean()
        t.save()
    return out


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], list[Any]]]:
    """Record what reaches replan.tasks_changed (the scheduler's hook) after commit."""
    calls: list[tuple[list[int], list[Any]]] = []
    monkeypatch.setattr(
        "scheduler_core.tasks.replan.tasks_changed",
        lambda ids, deleted=(): calls.append((sorted(ids), list(deleted))),
    )
    return calls


def test_changelist_shows_schedules_in_words_and_filters(client_su: Client, tasks: dict[str, Task]) -> None:
    r = client_su.get(CHANGELIST)
    assert r.status_code == 200
    body = r.content.decode()
    for text in ("cron 0 3 * * * (Europe/Berlin)", "every 15m, 10 runs", "once at 2026-12-24 17:00 UTC"):
        assert text in body
    for filter_title in ("By type", "By queue", "By enabled", "By task set"):
        assert filter_title in body


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("type__exact=cron", {"nightly"}),
        ("queue=high", {"poll"}),
        ("enabled__exact=0", {"migrate"}),
        ("q=add", {"migrate"}),  # search: callable
        ("q=one-off", {"migrate"}),  # search: description
        ("q=poll", {"poll"}),
    ],
)
def test_filters_and_search_narrow_the_list(
    client_su: Client, tasks: dict[str, Task], query: str, names: set[str]
) -> None:
    r = client_su.get(f"{CHANGELIST}?{query}")
    assert r.status_code == 200
    shown = {t.name for t in r.context["cl"].result_list}
    assert shown == names


def test_set_filter(client_su: Client, tasks: dict[str, Task]) -> None:
    billing = TaskSet.objects.get(name="billing")
    r = client_su.get(f"{CHANGELIST}?task_set__id__exact={billing.pk}")
    assert {t.name for t in r.context["cl"].result_list} == {"nightly"}


@pytest.mark.parametrize(
    ("kind", "shown", "hidden"),
    [
        ("cron", ["cron", "timezone"], ["interval", "repeat", "at"]),
        ("repeatable", ["interval", "repeat", "at"], ["cron", "timezone"]),
        ("once", ["at"], ["cron", "timezone", "interval", "repeat"]),
    ],
)
def test_change_form_shows_the_schedule_fields_of_its_type(
    client_su: Client, tasks: dict[str, Task], kind: str, shown: list[str], hidden: list[str]
) -> None:
    r = client_su.get(f"{CHANGELIST}{tasks[kind].pk}/change/")
    assert r.status_code == 200
    form = r.context["adminform"].form
    for f in shown:
        assert f in form.fields, f
    for f in hidden:
        assert f not in form.fields, f
    assert "Status (read-only)" in r.content.decode()


def test_add_form_loads_with_every_schedule_field(client_su: Client) -> None:
    r = client_su.get(f"{CHANGELIST}add/")
    assert r.status_code == 200
    assert {"cron", "timezone", "interval", "repeat", "at"} <= set(r.context["adminform"].form.fields)


def test_set_owned_task_warns_that_apply_overwrites_edits(client_su: Client, tasks: dict[str, Task]) -> None:
    r = client_su.get(f"{CHANGELIST}{tasks['cron'].pk}/change/")
    warnings = [str(m) for m in r.context["messages"]]
    assert warnings == [
        "Owned by set 'billing': the next `taskctl tasks apply` of that set overwrites edits made here."
    ]
    assert "task_set" not in r.context["adminform"].form.fields  # ownership is read-only here

    r = client_su.get(f"{CHANGELIST}{tasks['repeatable'].pk}/change/")
    assert [str(m) for m in r.context["messages"]] == []
    assert "Made by hand" in r.content.decode()


@pytest.mark.parametrize(("action", "enabled"), [("disable_selected", False), ("enable_selected", True)])
def test_enable_disable_actions(
    client_su: Client,
    tasks: dict[str, Task],
    planned: list[tuple[list[int], list[Any]]],
    django_capture_on_commit_callbacks: Any,
    action: str,
    enabled: bool,
) -> None:
    ids = [t.pk for t in tasks.values()]
    changing = sorted(t.pk for t in tasks.values() if t.enabled != enabled)
    with django_capture_on_commit_callbacks(execute=True):
        r = client_su.post(CHANGELIST, {"action": action, "_selected_action": ids}, follow=True)
    assert r.status_code == 200
    assert f"{len(changing)} task(s) {'enabled' if enabled else 'disabled'}." in [
        str(m) for m in r.context["messages"]
    ]
    for t in Task.objects.all():
        assert t.enabled is enabled
        assert t.spec_hash == t.compute_spec_hash()  # update() did not leave a stale hash
    assert planned == [(changing, [])]


def test_saving_and_deleting_in_the_admin_replans_after_commit(
    client_su: Client,
    tasks: dict[str, Task],
    planned: list[tuple[list[int], list[Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    task = tasks["repeatable"]
    data = {
        "name": "poll",
        "type": "repeatable",
        "callable": "tests.jobs.noop",
        "args": "[]",
        "kwargs": "{}",
        "queue": "high",
        "enabled": "on",
        "description": "",
        "interval": "60",
        "repeat": "3",
        "at_0": "",
        "at_1": "",
        "timeout": "",
        "result_ttl": "",
        "failure_ttl": "",
        "retry_max": "0",
        "retry_backoff": "[]",
        "on_success": "",
        "on_failure": "",
        "on_stopped": "",
        "misfire": "run_once",
        "overlap": "allow",
    }
    with django_capture_on_commit_callbacks(execute=True):
        r = client_su.post(f"{CHANGELIST}{task.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    task.refresh_from_db()
    assert (task.interval, task.repeat) == (60, 3)
    assert task.spec_hash == task.compute_spec_hash()
    assert planned == [([task.pk], [])]

    with django_capture_on_commit_callbacks(execute=True):
        r = client_su.post(f"{CHANGELIST}{task.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert planned[-1] == ([], [(task.pk, "high", "")])


def test_admin_form_rejects_a_bad_cron_with_the_model_message(
    client_su: Client, tasks: dict[str, Task]
) -> None:
    task = tasks["cron"]
    data = {
        "name": "nightly",
        "type": "cron",
        "callable": "tests.jobs.noop",
        "args": "[]",
        "kwargs": "{}",
        "queue": "default",
        "enabled": "on",
        "description": "",
        "cron": "61 * * * *",
        "timezone": "Europe/Berlin",
        "timeout": "",
        "result_ttl": "",
        "failure_ttl": "",
        "retry_max": "0",
        "retry_backoff": "[]",
        "on_success": "",
        "on_failure": "",
        "on_stopped": "",
        "misfire": "run_once",
        "overlap": "allow",
    }
    r = client_su.post(f"{CHANGELIST}{task.pk}/change/", data)
    assert r.status_code == 200
    assert r.context["adminform"].form.errors["cron"] == [
        'invalid cron "61 * * * *" (expected 5 fields: minute hour day month weekday)'
    ]
    task.refresh_from_db()
    assert task.cron == "0 3 * * *"


def test_taskset_admin_is_a_read_only_list(client_su: Client, tasks: dict[str, Task]) -> None:
    r = client_su.get("/admin/scheduler_core/taskset/")
    assert r.status_code == 200
    assert "billing" in r.content.decode()
    assert r.context["cl"].result_list[0].n_tasks == 1
    assert client_su.get("/admin/scheduler_core/taskset/add/").status_code == 403
    billing = TaskSet.objects.get(name="billing")
    view = client_su.get(f"/admin/scheduler_core/taskset/{billing.pk}/change/")
    assert view.status_code == 200  # view permission only: no save button
    assert 'name="_save"' not in view.content.decode()
