"""`python manage.py taskctl ...` runs the whole CLI with the project's settings: the same output
and exit code as `taskctl --settings <project settings> ...`, and a worker started from it runs jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler_core.jobs.record import JobStatus
from scheduler_core.management.commands.taskctl import cli_argv
from scheduler_core.queues.queue import get_queue

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.process

MANAGE_PY = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


@pytest.fixture
def site(tmp_path: Path, key_prefix: str) -> tuple[Path, dict[str, str]]:
    (tmp_path / "manage.py").write_text(MANAGE_PY)
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update({
        "PYTHONPATH": str(REPO), "TASKCTL_KEY_PREFIX": key_prefix,
        # manage.py must use the project's settings, whatever the CLI's own variable says
        "TASKCTL_SETTINGS": "no.such.settings",
    })  # fmt: skip
    return tmp_path, env


def manage(site: tuple[Path, dict[str, str]], *args: str) -> subprocess.CompletedProcess[str]:
    path, env = site
    argv = [sys.executable, str(path / "manage.py"), "taskctl", *args]
    return subprocess.run(argv, cwd=path, env=env, capture_output=True, text=True, timeout=60)


def cli(site: tuple[Path, dict[str, str]], *args: str) -> subprocess.CompletedProcess[str]:
    path, env = site
    argv = [sys.executable, "-m", "taskctl", "--settings", "tests.settings", *args]
    return subprocess.run(argv, cwd=path, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["queues", "show", "-o", "json"],  # 0, JSON on stdout
        ["jobs", "show", "0123456789abcdef"],  # 3: not found
        ["jobs", "list", "nosuchqueue"],  # 3: unknown queue
        ["tasks", "validate", "-f", "missing.yaml"],  # 3: no such file
        ["bogus"],  # 2: usage
    ],
)
def test_same_output_and_exit_code_as_the_cli(site: tuple[Path, dict[str, str]], args: list[str]) -> None:
    ours, theirs = manage(site, *args), cli(site, *args)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert (
        ours.returncode
        == {"--version": 0, "--help": 0, "queues": 0, "jobs": 3, "tasks": 3, "bogus": 2}[args[0]]
    )


def test_a_worker_started_from_manage_py_runs_jobs(site: tuple[Path, dict[str, str]]) -> None:
    added = manage(site, "jobs", "enqueue", "tests.jobs.add", "2", "3", "-o", "json")
    assert added.returncode == 0, added.stderr
    ran = manage(site, "worker", "start", "--burst", "--settings", "tests.settings")
    assert ran.returncode == 0, ran.stderr
    q = get_queue("default")
    (job_id,) = q.job_ids("finished")
    job = q.fetch_job(job_id)
    assert job is not None and job.status is JobStatus.FINISHED and job.result == 5


def test_django_global_options_move_in_front() -> None:
    argv = cli_argv(["queues", "show", "--settings", "x", "--pythonpath=/p"], "site.settings", "/d")
    assert argv == ["--settings", "site.settings", "--pythonpath", "/p", "queues", "show"]
    assert cli_argv(["--version"], "s", "/d") == ["--settings", "s", "--pythonpath", "/d", "--version"]
