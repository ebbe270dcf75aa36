"""A private redis-server on a free loopback port, for tests that restart, pause, kill or fill it.

Never the shared test Redis: these servers are started here, flushed freely and stopped."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import redis

if TYPE_CHECKING:
    import redis

SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """`redis-server` with its own port and directory; `args` are extra server options."""

    def __init__(self, *args: str, aof: bool = False) -> None:
        if SERVER is None:
            raise RuntimeError("no redis-server binary on PATH")
        self.dir = Path(tempfile.mkdtemp(prefix="taskctl-private-redis-"))
        self.port = free_port()
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if aof else ["--appendonly", "no"]
        self.argv = [SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                     "--dir", str(self.dir), *persistence, *args]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=5)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 10
        while time.time() < end:
            with contextlib.suppress(Exception):
                c = self.client()
                try:
                    if c.ping():
                        return
                finally:
                    c.close()
            time.sleep(0.05)
        raise RuntimeError(f"private redis-server on port {self.port} did not start")

    def _signal(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: no shutdown save; only what the append-only file holds survives."""
        assert self.proc is not None
        self._signal(signal.SIGCONT)
        self.proc.kill()
        self.proc.wait()

    def shutdown(self) -> None:
        """A clean stop (SIGTERM)."""
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._signal(signal.SIGCONT)
            self.shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)
