"""Manifest parsing and validation: the broken corpus, durations, line numbers, sources.

No database: `validate` needs settings only.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scheduler_core.conf import reset_config
from scheduler_core.manifest import ManifestInvalid, load_manifest
from scheduler_core.manifest.durations import DurationError, format_compact, parse_duration
from scheduler_core.manifest.loader import LineLoader, Source, parse
from scheduler_core.models import Task, TaskSet
from tests.cli import cli

REPO = str(Path(__file__).resolve().parent.parent)

BROKEN = Path(__file__).parent / "manifests" / "broken"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "tasks.yaml"


def _expected() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (BROKEN / "expected.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            out[line.split(":", 1)[0]] = line
    return out


EXPECTED = _expected()


@pytest.fixture
def allowed(settings: pytest.FixtureRequest) -> None:
    settings.SCHEDULER = {**settings.SCHEDULER, "ALLOWED_CALLABLES": ["examples.jobs"]}  # type: ignore[attr-defined]
    reset_config()


def test_corpus_is_complete() -> None:
    files = sorted(p.name for p in BROKEN.glob("*.yaml"))
    assert len(files) >= 30
    assert files == sorted(EXPECTED), "every broken manifest has exactly one expected line"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_manifest_validate(name: str, allowed: None) -> None:
    out = cli("tasks", "validate", "-f", str(BROKEN / name))
    assert out.code == 3
    lines = out.stderr.replace(f"{BROKEN}/", "").splitlines()
    assert lines == [EXPECTED[name], "taskctl: error: 1 error in the manifest; nothing was written"]
    assert out.stdout == ""


@pytest.mark.django_db
def test_broken_manifests_diff_and_apply_write_nothing(allowed: None) -> None:
    for name in sorted(EXPECTED):
        for command in ("diff", "apply"):
            out = cli("tasks", command, "-f", str(BROKEN / name))
            assert out.code == 3, (name, command)
            assert EXPECTED[name] in out.stderr.replace(f"{BROKEN}/", "").splitlines()
    assert Task.objects.count() == 0 and TaskSet.objects.count() == 0


def test_all_errors_at_once_in_line_order(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "version: 1\nset: s\ndefaults: {timeout: 5x}\ntasks:\n"
        "  - {name: a, type: cron, callable: tests.jobs.noop, cron: '61 * * * *'}\n"
        "  - {name: b, type: once, callable: tests.jobs.nope, at: 2026-01-01T00:00:00}\n"
        "  - {name: a, type: repeatable, callable: tests.jobs.noop, interval: 0}\n"
    )
    out = cli("tasks", "validate", "-f", str(path))
    assert out.code == 3
    assert out.stderr.replace(f"{tmp_path}/", "").splitlines() == [
        'many.yaml:3: defaults.timeout: invalid duration "5x" (expected seconds or a duration like '
        "90s, 15m, 2h, 1d, 1w)",
        'many.yaml:5: tasks[0].cron: invalid cron "61 * * * *" (expected 5 fields: minute hour day month '
        "weekday)",
        "many.yaml:6: tasks[1].at: time 2026-01-01T00:00:00 has no UTC offset (add Z or +01:00)",
        "many.yaml:6: tasks[1].callable: callable 'tests.jobs.nope': tests.jobs has no attribute 'nope'",
        "many.yaml:7: tasks[2].interval: must be at least 1 second",
        'many.yaml:7: tasks[2].name: duplicate task name "a" (first at many.yaml:5)',
        "taskctl: error: 6 errors in the manifest; nothing was written",
    ]


def test_duplicate_names_across_files_and_directory(tmp_path: Path) -> None:
    task = "  - {name: %s, type: cron, callable: tests.jobs.noop, cron: '0 3 * * *'}\n"
    (tmp_path / "a.yaml").write_text("version: 1\nset: one\ntasks:\n" + task % "x" + task % "y")
    (tmp_path / "b.yml").write_text("version: 1\nset: two\ntasks:\n" + task % "z" + task % "x")
    (tmp_path / "notes.txt").write_text("not a manifest")
    out = cli("tasks", "validate", "-f", str(tmp_path))
    assert out.code == 3
    assert out.stderr.replace(f"{tmp_path}/", "").splitlines()[0] == (
        'b.yml:5: tasks[1].name: duplicate task name "x" (first at a.yaml:4)'
    )
    (tmp_path / "b.yml").write_text("version: 1\nset: two\ntasks:\n" + task % "z")
    out = cli("tasks", "validate", "-f", str(tmp_path))
    assert (out.code, out.stderr) == (0, "valid: 2 sets, 3 tasks (one: 2, two: 1)\n")
    out = cli("tasks", "validate", "-f", str(tmp_path / "a.yaml"), "-f", str(tmp_path / "b.yml"))
    assert out.code == 0


def test_stdin_is_named_stdin() -> None:
    out = cli("tasks", "validate", "-f", "-", input="version: 1\nset: s\ntasks:\n  - {name: a}\n")
    assert out.code == 3
    assert "<stdin>:4: tasks[0].type: required key missing" in out.stderr.splitlines()


def test_missing_file_and_empty_directory(tmp_path: Path) -> None:
    out = cli("tasks", "validate", "-f", str(tmp_path / "nope.yaml"), "-f", str(tmp_path))
    assert out.code == 3
    assert out.stderr.splitlines()[:2] == [
        f"{tmp_path}/nope.yaml: no such file",
        f"{tmp_path}: directory has no *.yaml or *.yml files",
    ]


def test_validate_needs_no_database_or_broker(tmp_path: Path) -> None:
    """Through the real CLI with an unreachable database and broker: validate passes, diff is 69."""
    env = {
        **os.environ,
        "TASKCTL_DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
        "TASKCTL_BROKER_URL": "redis://127.0.0.1:9/0",
        "PYTHONPATH": REPO,  # examples/ is the repo's demo, importable from the checkout (not installed)
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("TASKCTL_SETTINGS", None)
    run = [sys.executable, "-m", "taskctl", "tasks"]
    ok = subprocess.run(
        [*run, "validate", "-f", str(EXAMPLES)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert (ok.returncode, ok.stderr) == (0, "valid: 1 set, 7 tasks (examples: 7)\n")
    down = subprocess.run(
        [*run, "diff", "-f", str(EXAMPLES)], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert down.returncode == 69 and "database unreachable" in down.stderr


def test_type_any_case_and_defaults() -> None:
    text = (
        "version: 1\nset: s\ndefaults: {queue: high, timeout: 5m, timezone: Europe/Berlin, retry: {max: 2}}\n"
        "tasks:\n"
        "  - {name: a, type: CRON, callable: tests.jobs.noop, cron: '0 3 * * *'}\n"
        "  - {name: b, type: Repeatable, callable: tests.jobs.noop, interval: 1h30m, timeout: 90}\n"
    )
    m = load_manifest(["-"], io.StringIO(text))
    a, b = m.tasks
    assert (a.fields["type"], a.fields["queue"], a.fields["timeout"], a.fields["timezone"]) == (
        "cron",
        "high",
        300,
        "Europe/Berlin",
    )
    # timezone is a cron-only default: it does not reach the repeatable task
    assert (b.fields["type"], b.fields["interval"], b.fields["timeout"], b.fields["timezone"]) == (
        "repeatable",
        5400,
        90,
        "",
    )
    assert a.fields["retry_max"] == b.fields["retry_max"] == 2


def test_at_forms_all_mean_utc() -> None:
    text = (
        "version: 1\nset: s\ntasks:\n"
        "  - {name: a, type: once, callable: tests.jobs.noop, at: 2026-12-24T18:00:00+01:00}\n"
        "  - {name: b, type: once, callable: tests.jobs.noop, at: '2026-12-24T17:00:00Z'}\n"
        "  - {name: c, type: once, callable: tests.jobs.noop, at: 2026-12-24 17:00:00Z}\n"
    )
    m = load_manifest(["-"], io.StringIO(text))
    assert {t.spec()["at"] for t in m.tasks} == {"2026-12-24T17:00:00Z"}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (0, 0),
        (90, 90),
        ("90", 90),
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1h30m", 5400),
        ("1w2d3h4m5s", 788645),
    ],
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_compact(seconds)) == seconds


@pytest.mark.parametrize("bad", ["", "5x", "m", "1.5h", "-1m", "15 m", True, None, 1.5, [1], -1])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(bad)


def test_line_loader_records_lines_without_touching_pyyaml() -> None:
    before = dict(yaml.SafeLoader.yaml_constructors)
    loaded = parse(Source("x.yaml", "a: 1\nb:\n  - 2\n  - {c: 3}\n---\nd: 4\n"))
    assert [d.data for d in loaded.documents] == [{"a": 1, "b": [2, {"c": 3}]}, {"d": 4}]
    first = loaded.documents[0].data
    assert first.key_lines == {"a": 1, "b": 2} and first["b"].item_lines == [3, 4]
    assert loaded.documents[1].line == 6
    assert yaml.SafeLoader.yaml_constructors == before
    assert type(yaml.safe_load("a: {b: [1]}")["a"]) is dict  # PyYAML's own loader is unchanged
    assert LineLoader.yaml_constructors is not yaml.SafeLoader.yaml_constructors


def test_manifest_invalid_lists_every_problem() -> None:
    with pytest.raises(ManifestInvalid) as info:
        load_manifest(["-"], io.StringIO("version: 3\ntasks: 5\nextra: 1\n"))
    assert [str(p) for p in info.value.problems] == [
        "<stdin>:1: set: required key missing",
        "<stdin>:1: version: unsupported version 3 (expected 1)",
        "<stdin>:2: tasks: expected a list of tasks, got an integer",
        '<stdin>:3: extra: unknown key "extra" (expected one of: version, set, defaults, tasks)',
    ]
    assert info.value.exit_code == 3
