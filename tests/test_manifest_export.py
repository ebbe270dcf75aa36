"""`taskctl tasks export`: spec only, a manifest apply accepts; `export | diff -f -` exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.db import connection

from scheduler_core.models import Task, TaskSet
from tests.cli import cli
from tests.data import manifest
from tests.processes import migrate

REPO = str(Path(__file__).resolve().parent.parent)

pytestmark = pytest.mark.django_db
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "tasks.yaml"


def test_examples_round_trip() -> None:
    assert cli("tasks", "apply", "-f", str(EXAMPLES)).code == 0
    Task.objects.update(run_count=7, last_status="finished", pending_job_id="x@1")  # status is not spec
    out = cli("tasks", "export", "--set", "examples")
    assert out.code == 0, out.stderr
    doc = yaml.safe_load(out.stdout)
    assert doc["version"] == 1 and doc["set"] == "examples" and len(doc["tasks"]) == 7
    by_name = {t["name"]: t for t in doc["tasks"]}
    assert by_name["nightly-report"]["retry"] == {"max": 3, "backoff": ["10s", "1m", "5m"]}
    assert by_name["new-year-migration"]["at"] == "2027-01-01T08:00:00Z"
    assert by_name["say-hello"]["interval"] == "10s" and "queue" not in by_name["say-hello"]
    assert "enabled" not in by_name["say-hello"] and by_name["manual-migration"]["enabled"] is False
    assert not any(k in t for t in doc["tasks"] for k in ("run_count", "last_status", "next_run_at"))
    assert cli("tasks", "diff", "-f", "-", input=out.stdout).code == 0


def test_forever_ttl_round_trips() -> None:
    text = (
        "version: 1\nset: keep\ntasks:\n- name: k\n  type: cron\n  callable: tests.jobs.noop\n"
        '  cron: "0 3 * * *"\n  result_ttl: forever\n  failure_ttl: 0\n'
    )
    assert cli("tasks", "apply", "-f", "-", input=text).code == 0
    assert Task.objects.values_list("result_ttl", "failure_ttl").get(name="k") == (-1, 0)
    out = cli("tasks", "export", "--set", "keep")
    task = yaml.safe_load(out.stdout)["tasks"][0]
    assert (task["result_ttl"], task["failure_ttl"]) == ("forever", "0s")
    assert cli("tasks", "diff", "-f", "-", input=out.stdout).code == 0


def test_a_ttl_that_is_neither_duration_nor_forever() -> None:
    text = "version: 1\nset: keep\ntasks:\n- name: k\n  type: once\n  callable: tests.jobs.noop\n"
    out = cli(
        "tasks", "validate", "-f", "-", input=text + "  at: 2030-01-01T00:00:00Z\n  result_ttl: always\n"
    )
    assert out.code == 3 and "result_ttl" in out.stderr and "or forever" in out.stderr


def test_export_all_is_one_document_per_set() -> None:
    cli("tasks", "apply", "-f", "-", input=manifest("b-set", "b1"))
    cli("tasks", "apply", "-f", "-", input=manifest("a-set", "a1", "a2"))
    cli("tasks", "apply", "-f", "-", input="version: 1\nset: empty\ntasks: []\n")
    out = cli("tasks", "export", "--all")
    docs = list(yaml.safe_load_all(out.stdout))
    assert [(d["set"], [t["name"] for t in d["tasks"]]) for d in docs] == [
        ("a-set", ["a1", "a2"]),
        ("b-set", ["b1"]),
        ("empty", []),
    ]
    assert cli("tasks", "diff", "--prune", "-f", "-", input=out.stdout).code == 0
    # what was exported re-creates the same tasks in an empty database
    Task.objects.all().delete()
    TaskSet.objects.all().delete()
    assert cli("tasks", "apply", "-f", "-", input=out.stdout).code == 0
    assert cli("tasks", "export", "--all").stdout == out.stdout


@pytest.mark.parametrize("args", [[], ["--set", "x", "--all"]])
def test_export_needs_exactly_one_of_set_or_all(args: list[str]) -> None:
    out = cli("tasks", "export", *args)
    assert out.code == 2 and "exactly one of --set NAME or --all" in out.stderr


def test_export_unknown_set() -> None:
    out = cli("tasks", "export", "--set", "nope")
    assert (out.code, out.stdout, out.stderr) == (3, "", "taskctl: error: set 'nope' not found\n")


def _db_env(tmp_path: Path, prefix: str) -> dict[str, str]:
    """Environment for a real `taskctl` process on this test's database (built-in settings)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    else:
        url = (
            f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        )
    env = {
        **os.environ,
        "TASKCTL_DATABASE_URL": url,
        "TASKCTL_KEY_PREFIX": prefix,
        "PYTHONPATH": REPO,  # examples/ is the repo's demo, importable from the checkout (not installed)
        "TASKCTL_BROKER_URL": os.environ.get("TASKCTL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    }
    for k in ("DJANGO_SETTINGS_MODULE", "TASKCTL_SETTINGS"):
        env.pop(k, None)
    return env


@pytest.mark.django_db(transaction=True)
def test_export_pipe_diff_through_real_processes(tmp_path: Path, key_prefix: str) -> None:
    env = _db_env(tmp_path, key_prefix)
    taskctl = f"{sys.executable} -m taskctl"
    if "sqlite" in env["TASKCTL_DATABASE_URL"]:
        migrate(env, tmp_path)
    apply = subprocess.run(
        f"{taskctl} tasks apply -f {EXAMPLES}",
        shell=True,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert apply.returncode == 0, apply.stderr
    assert apply.stderr == "set examples: 7 created, 0 configured, 0 unchanged, 0 pruned\n"
    pipe = subprocess.run(
        f"set -o pipefail; {taskctl} tasks export --set examples | {taskctl} tasks diff -f -",
        shell=True,
        executable="/bin/bash",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pipe.returncode == 0, pipe.stderr
    assert pipe.stderr == "set examples: 0 to create, 0 to configure, 7 unchanged, 0 to prune\n"
