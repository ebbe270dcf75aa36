"""Items 2 and 11: `Task.save()` refuses what the admin form refuses (one message per field),
unless the caller opts out; names with format characters or a leading `-` are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError

from scheduler_core.errors import InvalidInput
from scheduler_core.manifest import ManifestInvalid, load_manifest
from scheduler_core.models import Task
from scheduler_core.tasks.actions import set_enabled

pytestmark = pytest.mark.django_db


def _task(**fields: Any) -> Any:
    base: dict[str, Any] = {"name": "t", "type": "cron", "cron": "0 3 * * *", "callable": "tests.jobs.noop"}
    return Task(**{**base, **fields})


def _form_errors(**fields: Any) -> dict[str, list[str]]:
    class TaskForm(forms.ModelForm):  # type: ignore[type-arg]
        class Meta:
            model = Task
            fields = "__all__"

    task = _task(**fields)
    data = {f.name: getattr(task, f.name) for f in Task._meta.fields if f.editable and f.name != "id"}
    data["task_set"] = None
    for f in ("args", "kwargs", "retry_backoff"):  # what a browser posts for a JSON field
        data[f] = json.dumps(data[f])
    form = TaskForm(data=data)
    assert not form.is_valid()
    return {k: [str(m) for m in v] for k, v in form.errors.items()}


@pytest.mark.parametrize(
    "fields",
    [
        {"cron": "61 * * * *"},
        {"queue": "nope"},
        {"callable": "tests.jobs.nope"},
        {"timezone": "Mars/Olympus"},
        {"cron": "61 * * * *", "queue": "nope"},
    ],
)
def test_save_refuses_what_the_form_refuses(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as exc:
        _task(**fields).save()
    assert exc.value.message_dict == _form_errors(**fields)
    assert all(len(m) == 1 for m in exc.value.message_dict.values())
    with pytest.raises(ValidationError):
        Task.objects.create(**_kw(fields))
    assert Task.objects.count() == 0


def _kw(fields: dict[str, Any]) -> dict[str, Any]:
    return {"name": "t", "type": "cron", "cron": "0 3 * * *", "callable": "tests.jobs.noop", **fields}


def test_save_validate_false_opts_out_and_the_scheduler_quarantines_it() -> None:
    task = _task(cron="61 * * * *", next_run_at=datetime(2030, 1, 1, tzinfo=UTC))
    task.save(validate=False)
    assert Task.objects.filter(pk=task.pk).exists()


def test_disable_of_a_bad_row_works_and_enable_is_refused() -> None:
    _task(cron="61 * * * *").save(validate=False)
    assert set_enabled("t", False).changed
    with pytest.raises(InvalidInput, match="cron"):
        set_enabled("t", True)
    assert Task.objects.get(name="t").enabled is False


@pytest.mark.parametrize(
    "name",
    ["evil\u202egnp.exe", "zero\u200bwidth", "-rf", "--help", " padded", "tab\there", "bidi\u2066x"],
)
def test_names_with_format_characters_or_a_leading_dash_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        _task(name=name).save()
    assert list(exc.value.message_dict) == ["name"]


@pytest.mark.parametrize("name", ["evil\u202egnp", "zero\u200bwidth", "-rf"])
def test_manifest_refuses_such_names(name: str, tmp_path: Any) -> None:
    path = tmp_path / "m.yaml"
    task = f'{{name: "{name}", type: cron, cron: "0 3 * * *", callable: tests.jobs.noop}}'
    path.write_text(f"version: 1\nset: s\ntasks:\n  - {task}\n", encoding="utf-8")
    with pytest.raises(ManifestInvalid) as exc:
        load_manifest([str(path)])
    assert [p.path for p in exc.value.problems] == ["tasks[0].name"]
