"""The app never imports the CLI: `scheduler_core` (the worker's entry point included) runs with
`taskctl` unimportable; only the `manage.py taskctl` command calls the CLI, lazily."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler_core.jobs.record import JobStatus
from scheduler_core.queues.queue import get_queue

REPO = Path(__file__).resolve().parent.parent
CORE = REPO / "scheduler_core"
THE_ONE_CALLER = CORE / "management" / "commands" / "taskctl.py"


def _imports_taskctl(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        if any(n == "taskctl" or n.startswith("taskctl.") for n in names):
            lines.append(node.lineno)
    return lines


def test_no_module_of_the_app_imports_the_cli() -> None:
    found = {
        str(p.relative_to(REPO)): lines
        for p in CORE.rglob("*.py")
        if p != THE_ONE_CALLER and (lines := _imports_taskctl(p))
    }
    assert found == {}
    assert _imports_taskctl(THE_ONE_CALLER)  # the management command does (inside the command)


# Make `import taskctl` fail in this interpreter and every process forked from it, then run the
# worker's own entry point as `python -m scheduler_core.worker` would.
_NO_CLI = """\
import runpy, sys
sys.modules["taskctl"] = None
sys.argv = ["scheduler_core.worker", sys.argv[1]]
runpy.run_module("scheduler_core.worker", run_name="__main__", alter_sys=True)
"""


@pytest.mark.process
def test_worker_entry_point_runs_without_taskctl(tmp_path: Path, key_prefix: str) -> None:
    q = get_queue("default")
    job = q.enqueue("tests.jobs.add", 20, 22)
    spec = {
        "options": {"queues": [], "burst": True, "with_scheduler": False, "name": f"nocli-{key_prefix}"},
        "log_level": "INFO", "log_format": "text", "settings": "tests.settings", "pythonpath": None,
        "debug": False,
    }  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "TASKCTL_KEY_PREFIX": key_prefix}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run([sys.executable, "-c", _NO_CLI, json.dumps(spec)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    done = q.fetch_job(job.id)
    assert done is not None and done.status is JobStatus.FINISHED and done.result == 42

    # its exit codes are the app's too: an unknown queue is one line and 3, without the CLI
    spec["options"]["queues"] = ["nope"]  # type: ignore[index]
    bad = subprocess.run([sys.executable, "-c", _NO_CLI, json.dumps(spec)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 3 and bad.stderr.startswith("taskctl: error: ") and "nope" in bad.stderr
    assert "Traceback" not in bad.stderr
