"""`taskctl metrics serve` as a real process: it binds, serves /metrics, stops on SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scheduler_core.queues.queue import get_queue
from tests.processes import WorkerProc, wait_for

pytestmark = pytest.mark.process


def test_serve_scrape_and_stop(worker: WorkerProc, tmp_path: Path) -> None:
    get_queue("high").enqueue("tests.jobs.noop")
    log = tmp_path / "metrics.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "taskctl", "metrics", "serve", "--port", "0"],
            env=worker.env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=err,
        )  # fmt: skip
    try:
        found = wait_for(
            lambda: re.search(r"http://127\.0\.0\.1:(\d+)/metrics", log.read_text()), 20, "serving"
        )
        with urllib.request.urlopen(found.group(0), timeout=10) as resp:
            text = resp.read().decode()
        fam = {f.name: f for f in text_string_to_metric_families(text)}
        queued = {
            s.labels["queue"]: s.value
            for s in fam["taskctl_queue_jobs"].samples
            if s.labels["registry"] == "queued"
        }
        assert queued == {"default": 0, "high": 1, "low": 0}
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(20)
    assert code == 0, log.read_text()
    assert proc.stdout is not None and proc.stdout.read() == b""  # data only on scrapes, logs on stderr


def test_a_port_in_use_is_78(worker: WorkerProc, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "taskctl", "metrics", "serve", "--port", str(port)],
            env=worker.env(), cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert out.returncode == 78
    assert (
        out.stderr == f"taskctl: error: metrics: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
