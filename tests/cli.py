"""The one in-process CLI runner of the tests, and golden files.

`cli()` runs `taskctl ARGS` through `taskctl.app.run`, the CLI's own entry point, so exit codes
and error lines are exactly what an operator sees. `golden()` compares with tests/golden/NAME; a
missing file is a failure unless TASKCTL_UPDATE_GOLDEN=1 asks to (re)write the files.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from taskctl.app import run

GOLDEN = Path(__file__).parent / "golden"
NOW = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC: every CLI test's clock


@dataclass
class Out:
    code: int
    stdout: str
    stderr: str


def cli(*args: str, input: str | None = None, env: dict[str, str] | None = None, columns: int = 120) -> Out:
    """`taskctl ARGS` in-process, `columns` wide, with `input` on stdin."""
    runner = CliRunner()
    with runner.isolation(input=input, env={"COLUMNS": str(columns), **(env or {})}) as streams:
        code = run(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        return Out(code, streams[0].getvalue().decode(), streams[1].getvalue().decode())


BROKER = "<broker>"  # what goldens show for the test broker's URL, wherever that Redis is


def machine_free(text: str) -> str:
    """`text` with what depends on the machine taken out: the test broker's URL (a private
    server's port, another database) becomes <broker>, and trailing spaces go (a table pads its
    lines to the URL's length)."""
    from scheduler_core.conf import get_config  # noqa: PLC0415  # settings are the test's by then

    text = text.replace(get_config().broker_url, BROKER)
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def golden(name: str, text: str) -> None:
    """Compare `text`, machine-free (see `machine_free`), with tests/golden/NAME."""
    text = machine_free(text)
    path = GOLDEN / name
    if os.environ.get("TASKCTL_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path} (TASKCTL_UPDATE_GOLDEN=1 writes it)"
    assert text == path.read_text(), f"output differs from {path}"
