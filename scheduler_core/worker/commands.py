"""The commands channel: operators publish, each worker's listener thread receives.

A message is one JSON object: {"command": C, "worker": NAME, "job_id": ID?}, C one of
shutdown (warm), shutdown-now (cold), stop-job, suspend, resume. Every worker receives every
message and acts only on those naming it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from scheduler_core.broker.channels import Subscription
from scheduler_core.broker.connection import connect, outage_errors
from scheduler_core.jobs.record import dumps, loads

log = logging.getLogger("taskctl.worker")

COMMANDS = ("shutdown", "shutdown-now", "stop-job", "suspend", "resume")


def encode(command: str, worker: str, job_id: str | None = None) -> bytes:
    if command not in COMMANDS:
        raise ValueError(f"unknown worker command {command!r}")
    msg: dict[str, Any] = {"command": command, "worker": worker}
    if job_id is not None:
        msg["job_id"] = job_id
    return dumps(msg, "command")


def decode(raw: Any) -> dict[str, Any] | None:
    try:
        msg = loads(raw)
    except Exception:
        return None
    if (
        not isinstance(msg, dict)
        or msg.get("command") not in COMMANDS
        or not isinstance(msg.get("worker"), str)
    ):
        return None
    return msg


class Listener(threading.Thread):
    """Subscribes on its own connection and hands this worker's commands to `deliver`."""

    def __init__(self, url: str, connect_timeout: float, channel: str, worker: str,
                 deliver: Callable[[dict[str, Any]], None]) -> None:  # fmt: skip
        super().__init__(name="taskctl-commands", daemon=True)
        self.url = url
        self.connect_timeout = connect_timeout
        self.channel = channel
        self.worker = worker
        self.deliver = deliver
        self.ready = threading.Event()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True

    def run(self) -> None:

        failures = 0
        while not self._stopping:
            try:
                # its own client and pool (never shared across fork); a new one after a failure,
                # so that Sentinel and Cluster are asked afresh where the master is
                client = connect(self.url, self.connect_timeout)
                sub = Subscription(client, self.channel)
                if failures:
                    log.info("commands channel: reconnected")
                failures = 0
                self.ready.set()
                while not self._stopping:
                    data = sub.get(timeout=1.0)
                    if data is None:
                        continue
                    msg = decode(data)
                    if msg is None:
                        log.warning("commands channel: ignored a malformed message")
                    elif msg["worker"] == self.worker:
                        self.deliver(msg)
                sub.close()
                client.close()
            except (*outage_errors(), OSError) as exc:  # type: ignore[misc]
                if failures == 0:
                    log.error("commands channel: broker unreachable: %s (retrying)", exc)
                failures += 1
                time.sleep(min(0.2 * 2**failures, 5.0))
