"""The public API of `scheduler_core`: lazy at run time, typed for type checkers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import scheduler_core
from scheduler_core.errors import JobFailed
from scheduler_core.jobs.current import get_current_job
from scheduler_core.jobs.decorator import job
from scheduler_core.jobs.record import Job, JobStatus, Retry
from scheduler_core.queues.queue import JobCall, Queue, find_job, get_queue

REPO = Path(__file__).resolve().parent.parent


def test_every_public_name_is_the_object_of_its_home_module() -> None:
    homes = {"Job": Job, "JobStatus": JobStatus, "Retry": Retry, "job": job, "JobCall": JobCall,
             "Queue": Queue, "find_job": find_job, "get_queue": get_queue, "JobFailed": JobFailed,
             "get_current_job": get_current_job}  # fmt: skip
    assert sorted(scheduler_core.__all__) == sorted(homes)
    for name, obj in homes.items():
        assert getattr(scheduler_core, name) is obj
    assert set(scheduler_core.__all__) <= set(dir(scheduler_core))


def test_import_needs_no_settings_and_loads_no_submodule() -> None:
    code = (
        "import sys, scheduler_core; print(sorted(m for m in sys.modules if m.startswith('scheduler_core')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO, env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert out.stdout.strip() == "['scheduler_core']"


def test_type_checkers_see_the_real_signatures(tmp_path: Path) -> None:
    """mypy (strict) reads the names through the TYPE_CHECKING block, not as `Any`."""
    src = tmp_path / "use_api.py"
    src.write_text(
        "from scheduler_core import JobCall, Retry, get_queue, job\n"
        "reveal_type(get_queue)\n"
        "reveal_type(Retry(max=2).delay)\n"
        "call: JobCall = JobCall('m.f')\n"
        "get_queue(1)  # a wrong argument type is an error\n"
    )
    mypy = Path(sys.executable).with_name("mypy")
    argv = [
        str(mypy),
        "--strict",
        "--no-incremental",
        "--config-file",
        str(REPO / "pyproject.toml"),
        str(src),
    ]
    out = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    assert 'Revealed type is "def (name: str =) -> scheduler_core.queues.queue.Queue"' in out.stdout, (
        out.stdout
    )
    assert 'Revealed type is "def (attempt: int) -> int"' in out.stdout, out.stdout
    assert 'Argument 1 to "get_queue" has incompatible type "int"' in out.stdout, out.stdout
    assert (REPO / "scheduler_core" / "py.typed").exists()
