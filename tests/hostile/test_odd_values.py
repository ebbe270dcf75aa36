"""Item 8, as a property: every command, driven with generated odd values (NaN, infinities, huge,
negative, empty, Unicode format characters, a leading `-`, deep nesting), never exits 70, never
prints a traceback, and writes nothing when it refuses.

Commands run in-process (CliRunner; `worker start` would exec, so the corpus runs it in a
subprocess) on the test's database and broker prefix.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_core.broker.connection import get_client
from scheduler_core.conf import get_config
from scheduler_core.models import Task, TaskSet
from scheduler_core.queues.queue import get_queue
from tests.cli import cli

pytestmark = pytest.mark.django_db

V = "{v}"
COMMANDS: list[list[str]] = [
    ["queues", "show", V],
    ["queues", "show", "--watch", "--count", "1", "--interval", V],
    ["queues", "show", "-o", V],
    ["queues", "clear", V, "--registry", "failed", "--yes"],
    ["queues", "clear", "default", "--registry", V, "--yes"],
    ["jobs", "list", V],
    ["jobs", "list", "default", "--offset", V],
    ["jobs", "list", "default", "--limit", V],
    ["jobs", "list", "default", "--registry", V],
    ["jobs", "show", V],
    ["jobs", "cancel", V],
    ["jobs", "delete", V],
    ["jobs", "requeue", V],
    ["jobs", "requeue", "--all-failed", V],
    ["jobs", "stop", V],
    ["jobs", "enqueue", V],
    ["jobs", "enqueue", "tests.jobs.noop", V],
    ["jobs", "enqueue", "tests.jobs.noop", "--in", V],
    ["jobs", "enqueue", "tests.jobs.noop", "--at", V],
    ["jobs", "enqueue", "tests.jobs.noop", "-k", V],
    ["jobs", "enqueue", "tests.jobs.noop", "-k", f"x={V}"],
    ["jobs", "enqueue", "tests.jobs.noop", "--queue", V],
    ["tasks", "list", "-o", V],
    ["tasks", "show", V],
    ["tasks", "next", V],
    ["tasks", "next", "odd-seed", "--count", V],
    ["tasks", "enable", V],
    ["tasks", "disable", V],
    ["tasks", "run", V],
    ["tasks", "delete", V],
    ["tasks", "export", "--set", V],
    ["tasks", "validate", "-f", V],
    ["tasks", "diff", "-f", V],
    ["tasks", "apply", "-f", V],
    ["tasks", "apply", "-f", "examples/tasks.yaml", "--dry-run", "--lock-timeout", V],
    ["workers", "list", "-o", V],
    ["workers", "stop", V],
]

ODD = [
    "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e-320", "-1", "-0", "0", "",
    " ", "9" * 40, str(2**63), str(-(2**63) - 1), "0x10", "1_000", "\u202e", "\u200b", "a\u202eb",
    "\ufeff", "\x00", "-", "--", "-rf", "--help", "-x=1", "[" * 2000, "{" * 2000, "{name: bad",
    "[1,", '"', "a=1", "=1", "1 bad=x", "99999999999d", "1e999s", "-5m", "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+14:00", "2026-13-45T99:99:99Z", "Mars/Olympus", "../../etc/passwd", "/dev/zero",
    "*", "?", "[a-", "{default}", "default:queued", "é" * 300, "\U0001f600" * 50,
]  # fmt: skip

values = st.one_of(
    st.sampled_from(ODD),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(categories=["Cf", "Zs", "Zl", "Cc", "Lo", "Sm", "Pd"]), max_size=12),
)


def _written(prefix: str) -> tuple[Any, ...]:
    """What a command may change: the task tables and the broker keys under the test's prefix."""
    cfg = get_config()
    r = get_client(cfg.broker_url)
    # a set: SCAN may return a key twice while the keyspace is rehashed (other tests write to it)
    keys = sorted({str(k) for k in r.scan_iter(match=f"{prefix}:*", count=1000) if ":runs:" not in str(k)})
    tasks = sorted(Task.objects.values_list("name", "enabled", "spec_hash", "pending_job_id"))
    return tuple(keys), tuple(tasks), tuple(TaskSet.objects.values_list("name", flat=True))


@pytest.fixture
def seeded(key_prefix: str) -> str:
    Task(name="odd-seed", type="repeatable", interval=60, callable="tests.jobs.noop").save()
    q = get_queue("default")
    q.enqueue("tests.jobs.noop")
    return key_prefix


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(COMMANDS), value=values)
def test_odd_values_never_crash_and_a_refusal_writes_nothing(
    seeded: str, command: list[str], value: str
) -> None:
    argv = [value if part == V else part.replace(V, value) for part in command]
    before = _written(seeded)
    out = cli(*argv)
    shown = [a[:40] for a in argv]
    assert out.code != 70, (shown, out.stderr[-300:])
    assert "Traceback" not in out.stderr + out.stdout, (shown, out.stderr[-300:])
    if out.code not in (0, 1):
        assert _written(seeded) == before, shown
        assert out.stderr.strip(), (shown, "a refusal says why")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
@pytest.mark.parametrize(
    "value", ["nan", "inf", "1e308", "-1", "", "\u202e", "-rf", "[" * 60000, "/dev/zero", "\x00"]
)
def test_every_command_with_the_classic_odd_values(seeded: str, command: list[str], value: str) -> None:
    argv = [value if part == V else part.replace(V, value) for part in command]
    before = _written(seeded)
    out = cli(*argv)
    shown = [a[:40] for a in argv]
    assert out.code != 70 and "Traceback" not in out.stderr, (shown, out.stderr[-300:])
    if out.code not in (0, 1):
        assert _written(seeded) == before, shown
