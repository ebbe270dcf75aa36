"""`taskctl tasks diff | apply` against the test database: the plan, idempotence, prune,
conflicts, the after-commit hook, and query counts."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

import scheduler_core.tasks.replan
from scheduler_core.manifest import load_manifest
from scheduler_core.manifest.apply import apply_manifest
from scheduler_core.models import Task, TaskSet, TaskType
from tests.cli import cli
from tests.data import manifest, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], list[Any]]]:
    """Calls of replan.tasks_changed (run by django_capture_on_commit_callbacks(execute=True))."""
    calls: list[tuple[list[int], list[Any]]] = []
    monkeypatch.setattr(
        scheduler_core.tasks.replan,
        "tasks_changed",
        lambda ids, deleted=(): calls.append((sorted(ids), list(deleted))),
    )
    return calls


def test_apply_creates_then_second_apply_is_unchanged(
    hook: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    text = manifest("billing", "a", "b")
    with django_capture_on_commit_callbacks(execute=True):
        out = cli("tasks", "apply", "-f", "-", "-o", "json", input=text)
    assert out.code == 0, out.stderr
    assert out.stderr == "set billing: 2 created, 0 configured, 0 unchanged, 0 pruned\n"
    doc = json.loads(out.stdout)
    assert (doc["version"], doc["kind"], doc["changes_pending"]) == (1, "plan", True)
    assert [(t["name"], t["action"], t["source"]) for t in doc["tasks"]] == [
        ("a", "created", "<stdin>:4: tasks[0]"),
        ("b", "created", "<stdin>:5: tasks[1]"),
    ]
    assert doc["sets"] == [
        {
            "name": "billing",
            "created": 2,
            "configured": 0,
            "unchanged": 0,
            "conflict": 0,
            "orphaned": 0,
            "pruned": 0,
        }
    ]
    tasks = {t.name: t for t in Task.objects.all()}
    assert set(tasks) == {"a", "b"} and all(
        t.task_set and t.task_set.name == "billing" for t in tasks.values()
    )
    assert all(t.spec_hash == t.compute_spec_hash() for t in tasks.values())
    assert TaskSet.objects.get().applied_at is not None
    assert hook == [(sorted(t.pk for t in tasks.values()), [])]
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        again = cli("tasks", "apply", "-f", "-", input=text)
    assert (again.code, again.stderr) == (0, "set billing: 0 created, 0 configured, 2 unchanged, 0 pruned\n")
    assert snapshot() == before and len(hook) == 1  # no write, no replan


def _second_apply_queries(n: int) -> list[str]:
    Task.objects.all().delete()
    TaskSet.objects.all().delete()

    m = load_manifest(["-"], io.StringIO(manifest("big", *[f"t{i}" for i in range(n)])))
    apply_manifest(m)
    with CaptureQueriesContext(connection) as ctx:
        plan = apply_manifest(m)
    assert plan.counts()["unchanged"] == n
    return [q["sql"] for q in ctx.captured_queries]


def test_second_apply_writes_nothing_and_costs_the_same_for_any_size() -> None:
    small, large = _second_apply_queries(10), _second_apply_queries(300)
    for sql in small + large:
        assert not sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")), sql
    assert len(small) == len(large) <= 6


def test_configured_lists_fields_before_after(
    hook: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    cli("tasks", "apply", "-f", "-", input=manifest("billing", "a", "b"))
    changed = (
        manifest("billing", "a") + "  - {name: b, type: cron, callable: tests.jobs.noop, cron: '0 4 * * *',"
        " queue: high, timeout: 10m}\n"
    )
    out = cli("tasks", "diff", "-f", "-", "-o", "json", input=changed)
    assert out.code == 1
    b = next(t for t in json.loads(out.stdout)["tasks"] if t["name"] == "b")
    assert b["action"] == "configured"
    assert b["changes"] == [
        {"field": "queue", "before": "default", "after": "high"},
        {"field": "cron", "before": "0 3 * * *", "after": "0 4 * * *"},
        {"field": "timeout", "before": None, "after": 600},
    ]
    plain = cli("tasks", "diff", "-f", "-", "-o", "plain", input=changed).stdout.splitlines()
    assert plain == [
        "billing\ta\tunchanged\t",
        "billing\tb\tconfigured\tqueue: default -> high; cron: 0 3 * * * -> 0 4 * * *; timeout: - -> 600",
    ]
    pk = Task.objects.get(name="b").pk
    with django_capture_on_commit_callbacks(execute=True):
        out = cli("tasks", "apply", "-f", "-", input=changed)
    assert out.stderr == "set billing: 0 created, 1 configured, 1 unchanged, 0 pruned\n"
    b_row = Task.objects.get(name="b")
    assert (b_row.queue, b_row.cron, b_row.timeout) == ("high", "0 4 * * *", 600)
    assert b_row.spec_hash == b_row.compute_spec_hash()
    assert hook == [([pk], [])]
    assert cli("tasks", "diff", "-f", "-", input=changed).code == 0


def test_table_hides_unchanged_rows() -> None:
    cli("tasks", "apply", "-f", "-", input=manifest("s", "a"))
    out = cli("tasks", "diff", "-f", "-", "-o", "table", input=manifest("s", "a", "b"))
    assert out.code == 1 and " b " in out.stdout and " a " not in out.stdout


def _seed_other_owners() -> dict[str, Task]:
    other = TaskSet.objects.create(name="other")
    made = [
        Task(name="theirs", type=TaskType.CRON, callable="tests.jobs.noop", cron="0 3 * * *", task_set=other),
        Task(name="by-hand", type=TaskType.CRON, callable="tests.jobs.noop", cron="0 3 * * *"),
    ]
    for t in made:
        t.save()
    return {t.name: t for t in made}


def test_conflicts_exit_4_and_write_nothing(hook: list[Any], django_capture_on_commit_callbacks: Any) -> None:
    _seed_other_owners()
    text = manifest("mine", "new", "theirs", "by-hand")
    diff = cli("tasks", "diff", "-f", "-", "-o", "plain", input=text)
    assert diff.code == 1
    assert "mine\ttheirs\tconflict\towned by set other" in diff.stdout
    assert "set mine: 1 to create, 0 to configure, 0 unchanged, 0 to prune, 2 conflicts" in diff.stderr
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        out = cli("tasks", "apply", "-f", "-", input=text)
    assert out.code == 4
    assert out.stderr.splitlines() == [
        '<stdin>:5: tasks[1]: task "theirs" is owned by set "other"',
        '<stdin>:6: tasks[2]: task "by-hand" is owned by no set (it was made by hand)',
        "taskctl: error: 2 conflicts; nothing was written (--force-conflicts takes them over)",
    ]
    assert snapshot() == before and hook == []
    dry = cli("tasks", "apply", "--dry-run", "-f", "-", input=text)
    assert dry.code == 4 and snapshot() == before


def test_force_conflicts_adopts(hook: list[Any], django_capture_on_commit_callbacks: Any) -> None:
    seeded = _seed_other_owners()
    text = manifest("mine", "theirs", "by-hand")
    with django_capture_on_commit_callbacks(execute=True):
        out = cli("tasks", "apply", "--force-conflicts", "-f", "-", "-o", "json", input=text)
    assert out.code == 0, out.stderr
    changes = {t["name"]: t["changes"] for t in json.loads(out.stdout)["tasks"]}
    assert changes["theirs"] == [{"field": "set", "before": "other", "after": "mine"}]
    assert changes["by-hand"] == [{"field": "set", "before": None, "after": "mine"}]
    assert set(Task.objects.filter(task_set__name="mine").values_list("name", flat=True)) == {
        "theirs",
        "by-hand",
    }
    assert hook == [(sorted(t.pk for t in seeded.values()), [])]
    assert cli("tasks", "diff", "-f", "-", input=text).code == 0


def test_orphans_listed_and_pruned_only_with_prune(
    hook: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    seeded = _seed_other_owners()
    cli("tasks", "apply", "-f", "-", input=manifest("mine", "a", "b", "c"))
    cli("tasks", "apply", "-f", "-", input=manifest("neighbour", "n1"))
    smaller = manifest("mine", "a")
    out = cli("tasks", "diff", "-f", "-", "-o", "plain", input=smaller)
    assert out.code == 0  # orphans are not changes unless --prune
    assert out.stdout.splitlines() == ["mine\ta\tunchanged\t", "mine\tb\torphaned\t", "mine\tc\torphaned\t"]
    assert "2 orphaned (kept; --prune deletes them)" in out.stderr
    assert cli("tasks", "diff", "--prune", "-f", "-", input=smaller).code == 1
    kept = cli("tasks", "apply", "-f", "-", input=smaller)
    assert kept.code == 0 and Task.objects.filter(task_set__name="mine").count() == 3
    doomed = {t.name: (t.pk, t.queue, t.pending_job_id) for t in Task.objects.filter(name__in=["b", "c"])}
    with django_capture_on_commit_callbacks(execute=True):
        out = cli("tasks", "apply", "--prune", "-f", "-", input=smaller)
    assert out.stderr == "set mine: 0 created, 0 configured, 1 unchanged, 2 pruned\n"
    names = set(Task.objects.values_list("name", flat=True))
    assert names == {"a", "n1", *seeded}  # the other set's and the hand-made tasks are untouched
    assert hook == [([], [doomed["b"], doomed["c"]])]


def test_prune_to_empty_needs_allow_empty() -> None:
    cli("tasks", "apply", "-f", "-", input=manifest("mine", "a"))
    empty = "version: 1\nset: mine\ntasks: []\n"
    out = cli("tasks", "apply", "--prune", "-f", "-", input=empty)
    assert out.code == 3 and "add --allow-empty" in out.stderr
    assert cli("tasks", "apply", "--prune", "--dry-run", "-f", "-", input=empty).code == 3
    assert Task.objects.count() == 1
    assert cli("tasks", "apply", "-f", "-", input=empty).code == 0 and Task.objects.count() == 1
    out = cli("tasks", "apply", "--prune", "--allow-empty", "-f", "-", input=empty)
    assert out.code == 0 and Task.objects.count() == 0 and TaskSet.objects.filter(name="mine").exists()


def test_dry_run_writes_nothing() -> None:
    cli("tasks", "apply", "-f", "-", input=manifest("mine", "a", "b"))
    before = snapshot()
    out = cli("tasks", "apply", "--dry-run", "--prune", "-f", "-", "-o", "json", input=manifest("mine", "c"))
    assert out.code == 0 and snapshot() == before
    doc = json.loads(out.stdout)
    assert doc["dry_run"] is True and [t["action"] for t in doc["tasks"]] == ["created", "pruned", "pruned"]
    assert out.stderr.endswith("dry run: nothing was written\n")
    assert cli("tasks", "apply", "--dry-run", "-f", "-", input=manifest("new-set", "z")).code == 0
    assert not TaskSet.objects.filter(name="new-set").exists()


def test_yaml_output_and_several_sets(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(manifest("one", "a1", "a2"))
    (tmp_path / "b.yaml").write_text(manifest("two", "b1") + "---\n" + manifest("three", "c1"))
    out = cli("tasks", "apply", "-f", str(tmp_path), "-o", "yaml")
    assert out.code == 0, out.stderr

    doc = yaml.safe_load(out.stdout)
    assert doc["kind"] == "plan" and [s["name"] for s in doc["sets"]] == ["one", "two", "three"]
    assert out.stderr.splitlines() == [
        "set one: 2 created, 0 configured, 0 unchanged, 0 pruned",
        "set two: 1 created, 0 configured, 0 unchanged, 0 pruned",
        "set three: 1 created, 0 configured, 0 unchanged, 0 pruned",
    ]
    assert cli("tasks", "diff", "-f", str(tmp_path / "a.yaml"), "-f", str(tmp_path / "b.yaml")).code == 0


def test_every_field_round_trips_through_apply() -> None:
    text = """version: 1
set: full
tasks:
  - name: rep
    type: repeatable
    callable: tests.jobs.add
    args: [1, 2]
    kwargs: {}
    queue: low
    enabled: false
    interval: 1h30m
    repeat: 5
    at: 2026-12-01T00:00:00.250000+02:00
    timeout: 2h
    result_ttl: 0
    failure_ttl: 1w
    at_front: true
    on_success: tests.jobs.callback_success
    on_failure: tests.jobs.callback_failure
    on_stopped: tests.jobs.callback_stopped
    retry: {max: 4, backoff: 30s}
    misfire: skip
    overlap: SKIP
    description: |
      two
      lines
"""
    assert cli("tasks", "apply", "-f", "-", input=text).code == 0
    t = Task.objects.get(name="rep")
    assert (t.interval, t.repeat, t.timeout, t.result_ttl, t.failure_ttl) == (5400, 5, 7200, 0, 604800)
    assert t.at is not None and t.at.isoformat() == "2026-11-30T22:00:00.250000+00:00"
    assert (t.retry_max, t.retry_backoff, t.misfire, t.overlap, t.at_front, t.enabled) == (
        4,
        [30],
        "skip",
        "skip",
        True,
        False,
    )
    assert t.description == "two\nlines\n" and t.args == [1, 2]
    assert cli("tasks", "diff", "-f", "-", input=text).code == 0


def test_json_numbers_compare_by_value_on_every_backend() -> None:
    """PostgreSQL's jsonb hands 3.72551994008267e+16 back as an int: still the same spec."""
    text = manifest("nums", extra="") + (
        "  - {name: n, type: cron, callable: tests.jobs.noop, cron: '0 3 * * *',"
        " args: [3.72551994008267e+16, 0.1, 1.0e+300, -0.0], kwargs: {x: 1.5}}\n"
    )
    assert cli("tasks", "apply", "-f", "-", input=text).code == 0
    assert cli("tasks", "diff", "-f", "-", input=text).code == 0
    exported = cli("tasks", "export", "--set", "nums").stdout
    assert cli("tasks", "diff", "-f", "-", input=exported).code == 0


def _apply_with_hook_queries(n: int, cron: str, capture: Any) -> tuple[int, int]:
    """Apply n tasks (all created, or all configured when they exist) and run the after-commit
    replan on the real broker; returns (apply's queries, the replan's queries)."""
    text = "version: 1\nset: big\ntasks:\n" + "".join(
        f"  - {{name: t{i}, type: cron, callable: tests.jobs.noop, cron: '{cron}'}}\n" for i in range(n)
    )
    m = load_manifest(["-"], io.StringIO(text))
    with CaptureQueriesContext(connection) as ctx:
        with capture(execute=False) as callbacks:
            apply_manifest(m)
        applied = len(ctx.captured_queries)
        for callback in callbacks:
            callback()
    return applied, len(ctx.captured_queries) - applied


def test_apply_and_replan_cost_the_same_queries_for_any_size(django_capture_on_commit_callbacks: Any) -> None:
    counts = []
    for n in (50, 500):
        Task.objects.all().delete()
        TaskSet.objects.all().delete()
        created = _apply_with_hook_queries(n, "0 3 * * *", django_capture_on_commit_callbacks)
        assert Task.objects.filter(next_run_at__hour=3).count() == n  # the replan ran for every task
        configured = _apply_with_hook_queries(n, "0 4 * * *", django_capture_on_commit_callbacks)
        assert Task.objects.filter(next_run_at__hour=4).count() == n
        counts.append((created, configured))
    assert counts[0] == counts[1], counts
