"""`worker start` with an unreachable database server fails fast: one line, exit 69 (as for the broker)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.private_redis import free_port

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.process
pytest.importorskip("psycopg", reason="psycopg (the postgres extra) is needed to reach a database server")


def test_worker_start_with_an_unreachable_database_exits_69(key_prefix: str, tmp_path: Path) -> None:
    env = dict(os.environ, TASKCTL_SETTINGS="tests.settings", TASKCTL_KEY_PREFIX=key_prefix,
               PYTHONPATH=str(REPO),
               TASKCTL_TEST_DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nodb")  # fmt: skip
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run([sys.executable, "-m", "taskctl", "worker", "start", "--name", "nodb"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 69, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("taskctl: error: database unreachable: "), out.stderr
