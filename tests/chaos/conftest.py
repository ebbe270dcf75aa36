"""The chaos suite: real faults (Redis restarts, kills, pauses and a full memory; a refused
PostgreSQL; SIGKILLed workers and schedulers) on private servers, with every execution counted.

Run it with `-m chaos tests/chaos` (CI: .ci/steps/30-chaos.sh); the main suite skips it. Each test
reports its figures (time to resume, jobs lost / run twice, occurrences lost / doubled), printed
at the end of the run and written to $TASKCTL_CHAOS_FIGURES (JSON lines) when set."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.rig import Rig

FIGURES: list[dict[str, Any]] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("chaos figures")
    for f in FIGURES:
        terminalreporter.write_line(json.dumps(f, sort_keys=False))


@pytest.fixture
def rig(key_prefix: str, tmp_path: Path, settings: Any) -> Iterator[Rig]:
    r = Rig(key_prefix, tmp_path, settings)
    try:
        yield r
    finally:
        r.close()
        for fig in r.figures:
            FIGURES.append(fig)
            out = os.environ.get("TASKCTL_CHAOS_FIGURES")
            if out:
                with open(out, "a") as f:
                    f.write(json.dumps(fig) + "\n")
