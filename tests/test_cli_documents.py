"""`tasks validate`, `tasks export` and `db migrate` speak `-o json|yaml` like every data command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli import cli
from tests.processes import clean_env, sqlite_url, taskctl

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "tasks.yaml"
BAD = (
    "version: 1\nset: s\ntasks:\n"
    '  - {name: a, type: cron, cron: "61 * * * *", callable: tests.jobs.noop}\n'
    "  - {name: b, type: bogus, callable: tests.jobs.noop}\n"
)


def test_validate_json_lists_every_error_with_its_place() -> None:
    out = cli("tasks", "validate", "-f", "-", "-o", "json", input=BAD)
    assert out.code == 3
    doc = json.loads(out.stdout)
    assert doc["kind"] == "validation" and doc["valid"] is False
    assert [(e["file"], e["line"], e["path"]) for e in doc["errors"]] == [
        ("<stdin>", 4, "tasks[0].cron"),
        ("<stdin>", 5, "tasks[1].type"),
    ]
    assert all(e["message"] for e in doc["errors"])


def test_validate_yaml_of_a_valid_manifest() -> None:
    out = cli("tasks", "validate", "-f", str(EXAMPLES), "-o", "yaml")
    assert out.code == 0, out.stderr
    doc = yaml.safe_load(out.stdout)
    assert doc == {
        "version": 1,
        "kind": "validation",
        "valid": True,
        "sets": [{"name": "examples", "tasks": 7}],
        "tasks": 7,
        "errors": [],
    }


@pytest.mark.django_db
def test_export_json_holds_manifests_apply_accepts() -> None:
    assert cli("tasks", "apply", "-f", str(EXAMPLES)).code == 0
    out = cli("tasks", "export", "--set", "examples", "-o", "json")
    assert out.code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "manifests" and [m["set"] for m in doc["manifests"]] == ["examples"]
    # JSON is YAML: the manifest inside goes straight back to diff, in sync.
    assert cli("tasks", "diff", "-f", "-", input=json.dumps(doc["manifests"][0])).code == 0


def test_migrate_json_lists_what_it_applied(tmp_path: Path) -> None:
    env = clean_env(TASKCTL_DATABASE_URL=sqlite_url(tmp_path / "db.sqlite3"))
    first = taskctl("db", "migrate", "-o", "json", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert doc["kind"] == "migration" and doc["database"] == "sqlite"
    assert "scheduler_core.0001_initial" in doc["applied"]
    again = json.loads(taskctl("db", "migrate", "-o", "json", env=env, cwd=tmp_path).stdout)
    assert again["applied"] == []
