"""Tables at 80 columns: headers never break mid-word, ids and names never wrap, lines fit.

Also the pieces behind it: `render.layout` (which columns, how wide), unique id prefixes as the
job tables show them, and `find_job` taking such a prefix back.
"""

from __future__ import annotations

import re

import pytest

from scheduler_core.errors import InvalidInput, NotFound
from scheduler_core.queues.queue import JobCall, find_job, get_queue, unique_prefixes
from taskctl.render import layout
from tests.cli import cli
from tests.data import fill

pytestmark = pytest.mark.usefixtures("clock")

NARROW = {"COLUMNS": "80"}


def _check_fits(text: str, headers: list[str], whole: list[str], width: int = 80) -> None:
    lines = text.splitlines()
    assert lines, "no output"
    assert all(len(line.rstrip()) <= width for line in lines), "\n".join(lines)
    words = {w for line in lines for w in line.split()}
    for header in headers:
        for word in header.split():
            assert word in words, f"header word {word!r} broken in:\n{text}"
    for value in whole:
        assert value in text, f"{value!r} wrapped or cut in:\n{text}"


def test_queues_show_fits_80() -> None:
    fill()
    out = cli("queues", "show", "-o", "table", env=NARROW)
    assert out.code == 0, out.stderr
    headers = ["queue", "scheduled", "queued", "active", "finished", "failed", "canceled", "workers"]
    _check_fits(out.stdout, headers, ["default", "high", "low"])


@pytest.mark.parametrize("registry", ["scheduled", "queued", "active", "finished", "failed", "canceled"])
def test_jobs_list_fits_80(registry: str) -> None:
    fill()
    out = cli("jobs", "list", "default", "-r", registry, "-o", "table", env=NARROW)
    assert out.code == 0, out.stderr
    _check_fits(out.stdout, ["id", "callable"], ["tests.jobs.add"])
    assert "(UTC)" in out.stdout  # times carry their zone


def test_failed_list_has_error_column() -> None:
    fill()
    out = cli("jobs", "list", "default", "-r", "failed", "-o", "table", env=NARROW)
    assert "error" in out.stdout.splitlines()[1] and "RuntimeError: boom" in out.stdout


def test_long_ids_are_shown_as_unique_prefixes_and_taken_back() -> None:
    q = get_queue("default")
    ids = [q.enqueue_call(JobCall("tests.jobs.add", (i, i))).id for i in range(3)]
    out = cli("jobs", "list", "default", "-o", "table", env=NARROW)
    shown = re.findall(r"^([0-9a-f]{12,})\s", out.stdout, flags=re.M)
    assert len(shown) == 3 and all(any(i.startswith(s) for i in ids) for s in shown)
    assert all(len(s) < 32 for s in shown)
    plain = cli("jobs", "list", "default", "-o", "plain")
    assert sorted(line.split("\t")[0] for line in plain.stdout.splitlines()) == sorted(ids)  # whole
    detail = cli("jobs", "show", shown[0], "-o", "json")
    assert detail.code == 0, detail.stderr
    assert detail.stdout.count(shown[0]) >= 1


def test_find_job_by_prefix() -> None:
    q = get_queue("default")
    q.enqueue_call(JobCall("tests.jobs.add", (1, 2), job_id="abcdef123456-one"))
    q.enqueue_call(JobCall("tests.jobs.add", (1, 2), job_id="abcdef123456-two"))
    assert find_job("abcdef123456-o").id == "abcdef123456-one"
    with pytest.raises(InvalidInput, match="ambiguous"):
        find_job("abcdef123456")
    with pytest.raises(NotFound):
        find_job("abcdef9")
    with pytest.raises(NotFound):
        find_job("abc*")  # a glob is never a prefix


def test_unique_prefixes() -> None:
    ids = ["a" * 20 + "1", "a" * 20 + "2", "b" * 32, "short"]
    assert unique_prefixes(ids) == ["a" * 20 + "1", "a" * 20 + "2", "b" * 12, "short"]
    assert unique_prefixes([]) == []


def test_layout_drops_in_order_and_never_breaks_headers() -> None:
    headers = ["id", "callable", "args", "worker", "ended (UTC)"]
    rows = [["x" * 20, "myapp.jobs.report", "[1,2,3]", "host.1234", "2026-01-01 00:00:00"]]
    wide = layout(rows, headers, fixed={0, 4}, keep={0}, drop=[3, 2], width=120)
    assert list(wide) == [0, 1, 2, 3, 4]
    narrow = layout(rows, headers, fixed={0, 4}, keep={0}, drop=[3, 2, 0], width=60)
    assert 3 not in narrow and 0 in narrow  # worker dropped first; a kept column never
    assert narrow[0] == 20 and narrow[4] == 19  # fixed columns keep their cells whole
    assert sum(narrow.values()) + 2 * (len(narrow) - 1) <= 60
    tight = layout(rows, headers, fixed={0, 4}, keep={0}, drop=[], width=40)
    assert all(tight[i] >= max(len(w) for w in headers[i].split()) for i in tight)


@pytest.mark.django_db
def test_tasks_list_fits_80(tasks: dict[str, object]) -> None:
    out = cli("tasks", "list", "-o", "table", env=NARROW)
    assert out.code == 0, out.stderr
    _check_fits(out.stdout, ["name", "schedule", "next run (UTC)"], ["nightly-report", "migrate-once"])


@pytest.mark.django_db
def test_tasks_show_declared_units(tasks: dict[str, object]) -> None:
    out = cli("tasks", "show", "poll-feed", "-o", "table", env=NARROW)
    assert re.search(r"^interval\s+15m\s*$", out.stdout, flags=re.M), out.stdout
    assert re.search(r"^next_run_at\s+\S+ \S+ UTC\s*$", out.stdout, flags=re.M), out.stdout
    plain = cli("tasks", "show", "poll-feed", "-o", "plain")
    assert "interval\t900" in plain.stdout  # scripts keep seconds
