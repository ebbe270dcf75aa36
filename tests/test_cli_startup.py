"""`taskctl --help` stays fast: loading the CLI imports no Django, redis or Rich."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

HEAVY = ("django", "redis", "rich", "yaml", "croniter", "psycopg", "prometheus_client")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    return env


def _loaded_after(code: str) -> list[str]:
    probe = (
        "import sys\n"
        f"{code}\n"
        "import json\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_django_or_redis() -> None:
    assert _loaded_after("import taskctl.app") == []


def test_rendering_help_loads_no_django_redis_or_rich() -> None:
    code = (
        "import io, contextlib, taskctl.app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = taskctl.app.run(['--help'])\n"
        "assert code == 0, code\n"
        "for noun in ('tasks', 'worker', 'queues', 'jobs', 'metrics', 'health'):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert taskctl.app.run([noun, '--help']) == 0"
    )
    assert _loaded_after(code) == []


def test_help_is_quick() -> None:
    """Loose bounds (machines are noisy): CPU time is what the imports cost, wall time catches hangs."""
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "taskctl", "--help"], env=_env(), capture_output=True, timeout=60
        )
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        assert result.returncode == 0
    assert statistics.median(cpu) < 0.6, f"--help CPU time median {statistics.median(cpu):.3f}s ({cpu})"
    assert statistics.median(wall) < 3.0, f"--help wall time median {statistics.median(wall):.3f}s"
