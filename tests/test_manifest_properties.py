"""Generated manifests, valid and mutated: never a traceback, never a partial write; valid ones
apply, re-apply with no write, and survive `export | diff`."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_core.manifest import ManifestInvalid, load_manifest
from scheduler_core.manifest.fields import TASK_KEYS
from scheduler_core.models import Task, TaskSet, TaskType
from tests.cli import cli
from tests.data import snapshot

HYP = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
ONE_LINE = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=20)
ANY_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT
)
JSON = st.recursive(
    SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(ONE_LINE, c, max_size=3), max_leaves=8
)
CRONS = ["0 3 * * *", "*/5 * * * *", "30 4 * * sun", "0 0 1,15 * 1", "15 2 29 2 *"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
CALLABLES = ["tests.jobs.noop", "tests.jobs.add", "examples.jobs.hello"]


def _duration() -> st.SearchStrategy[Any]:
    secs = st.integers(1, 10**6)
    return (
        secs
        | secs.map(lambda s: f"{s}s")
        | st.integers(1, 500).map(lambda m: f"{m}m")
        | st.integers(1, 50).map(lambda h: f"{h}h")
        | st.integers(1, 9).map(lambda d: f"{d}d1h")
    )


def _instant() -> st.SearchStrategy[str]:
    offsets = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30))])
    moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets)
    return moments.map(lambda d: d.isoformat())


@st.composite
def task(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["cron", "repeatable", "once"]))
    out: dict[str, Any] = {
        "name": name,
        "type": draw(st.sampled_from([kind, kind.upper(), kind.title()])),
        "callable": draw(st.sampled_from(CALLABLES)),
    }
    if kind == "cron":
        out["cron"] = draw(st.sampled_from(CRONS))
        if draw(st.booleans()):
            out["timezone"] = draw(st.sampled_from(ZONES))
    elif kind == "repeatable":
        out["interval"] = draw(_duration())
        if draw(st.booleans()):
            out["repeat"] = draw(st.integers(1, 1000))
        if draw(st.booleans()):
            out["at"] = draw(_instant())
    else:
        out["at"] = draw(_instant())
    optional: dict[str, st.SearchStrategy[Any]] = {
        "args": st.lists(JSON, max_size=3),
        "kwargs": st.dictionaries(ONE_LINE, JSON, max_size=3),
        "queue": st.sampled_from(["default", "high", "low"]),
        "enabled": st.booleans(),
        "timeout": _duration(),
        "result_ttl": st.integers(0, 10**6),
        "failure_ttl": _duration(),
        "at_front": st.booleans(),
        "on_failure": st.just("tests.jobs.callback_failure"),
        "description": st.text(
            st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
        ),
        "retry": st.fixed_dictionaries(
            {"max": st.integers(0, 10)}, optional={"backoff": st.lists(_duration(), max_size=3)}
        ),
        "misfire": st.sampled_from(["skip", "run_once", "SKIP"]),
        "overlap": st.sampled_from(["allow", "skip"]),
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=6)):
        out[key] = draw(optional[key])
    return out


@st.composite
def manifest(
    draw: st.DrawFn, pool: tuple[str, ...] = ("a", "b", "c", "d", "e"), sets: tuple[str, ...] = ("beta",)
) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(pool), unique=True, max_size=5))
    doc: dict[str, Any] = {"version": 1, "set": draw(st.sampled_from(sets))}
    if draw(st.booleans()):
        doc["defaults"] = {"timeout": draw(_duration()), "queue": draw(st.sampled_from(["default", "low"]))}
    doc["tasks"] = [draw(task(n)) for n in names]
    return doc


def _reset() -> None:
    """Each example starts from: set `beta` with task `b`, `theirs` in set `other`, `by-hand` in none."""
    Task.objects.all().delete()
    TaskSet.objects.all().delete()
    other, beta = TaskSet.objects.create(name="other"), TaskSet.objects.create(name="beta")
    for name, owner in (("theirs", other), ("by-hand", None), ("b", beta)):
        Task(
            name=name, type=TaskType.CRON, callable="tests.jobs.noop", cron="0 3 * * *", task_set=owner
        ).save()


@pytest.mark.django_db
@HYP
@given(doc=manifest())
def test_valid_manifests_apply_idempotently_and_round_trip(doc: dict[str, Any]) -> None:
    _reset()
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    assert cli("tasks", "validate", "-f", "-", input=text).code == 0
    out = cli("tasks", "apply", "--prune", "--allow-empty", "-f", "-", input=text)
    assert out.code == 0, out.stderr
    assert cli("tasks", "diff", "--prune", "-f", "-", input=text).code == 0
    before = snapshot()
    assert cli("tasks", "apply", "--prune", "-f", "-", "--allow-empty", input=text).code == 0
    assert snapshot() == before
    exported = cli("tasks", "export", "--set", doc["set"])
    assert exported.code == 0
    assert cli("tasks", "diff", "--prune", "-f", "-", input=exported.stdout).code == 0
    assert {t["name"] for t in yaml.safe_load(exported.stdout)["tasks"]} == {t["name"] for t in doc["tasks"]}
    assert set(Task.objects.exclude(task_set__name=doc["set"]).values_list("name", flat=True)) >= {
        "theirs",
        "by-hand",
    }


JUNK_KEYS = st.sampled_from([*TASK_KEYS, "nmae", "retry_max", "set", "", "spec_hash", "id"])


@st.composite
def mutated(draw: st.DrawFn) -> str:
    doc = draw(manifest(pool=("a", "b", "c", "theirs", "by-hand"), sets=("alpha", "beta", "other")))
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["drop", "set", "root", "dup", "text"]))
        tasks = doc.get("tasks") if isinstance(doc.get("tasks"), list) else None
        if what in ("drop", "set", "dup") and tasks:
            i = draw(st.integers(0, len(tasks) - 1))
            if not isinstance(tasks[i], dict):  # a "root" mutation may have put junk in the list
                continue
            if what == "dup":
                tasks.append(dict(tasks[i]))
            elif what == "drop" and tasks[i]:
                tasks[i].pop(draw(st.sampled_from(sorted(tasks[i]))))
            else:
                tasks[i][draw(JUNK_KEYS)] = draw(JSON)
        elif what == "root":
            doc[draw(st.sampled_from(["version", "set", "tasks", "defaults", "extra"]))] = draw(JSON)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    if draw(st.booleans()):  # and sometimes damage the text itself
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from(["", ":", "- ", "\t", "{", "'", "&a ", "*a", "\n  "]))
            + text[at + draw(st.integers(0, 3)) :]
        )
    return text


@pytest.mark.django_db
@HYP
@given(text=mutated(), prune=st.booleans(), force=st.booleans())
def test_mutated_manifests_never_traceback_or_write_partially(text: str, prune: bool, force: bool) -> None:
    _reset()
    before = snapshot()
    assert cli("tasks", "validate", "-f", "-", input=text).code in (0, 3)
    assert cli("tasks", "diff", "-f", "-", input=text).code in (0, 1, 3)
    flags = [*(["--prune"] if prune else []), *(["--force-conflicts"] if force else [])]
    out = cli("tasks", "apply", *flags, "-f", "-", input=text)
    assert out.code in (0, 3, 4), out.stderr
    assert "Traceback" not in out.stderr
    if out.code != 0:
        assert snapshot() == before
    else:
        assert cli("tasks", "diff", *(["--prune"] if prune else []), "-f", "-", input=text).code == 0


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | mutated())
def test_any_text_is_a_manifest_or_located_errors(text: str) -> None:
    try:
        load_manifest(["-"], io.StringIO(text))
    except ManifestInvalid as exc:
        assert exc.problems and all(str(p).startswith("<stdin>") and "\n" not in str(p) for p in exc.problems)
