"""The shared test harness itself: the in-process runner maps errors exactly as the CLI does,
and a missing golden file is a failure unless it is asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.cli
from tests.cli import cli, golden
from tests.processes import REPO, clean_env, taskctl


def test_in_process_runner_and_a_real_process_agree_on_an_error() -> None:
    args = ("jobs", "enqueue", "not a dotted path")
    here = cli(*args)
    there = taskctl(*args, env=clean_env(TASKCTL_SETTINGS="tests.settings", PYTHONPATH=str(REPO)))
    assert (here.code, here.stderr) == (there.returncode, there.stderr)
    assert here.code == 3 and here.stderr.startswith("taskctl: error: ")


def test_a_missing_golden_file_fails_unless_asked_to_write_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tests.cli, "GOLDEN", tmp_path)
    monkeypatch.delenv("TASKCTL_UPDATE_GOLDEN", raising=False)
    with pytest.raises(AssertionError, match="no golden file"):
        golden("new.txt", "text\n")
    assert not (tmp_path / "new.txt").exists()
    monkeypatch.setenv("TASKCTL_UPDATE_GOLDEN", "1")
    golden("new.txt", "text\n")
    monkeypatch.delenv("TASKCTL_UPDATE_GOLDEN")
    golden("new.txt", "text\n")
    with pytest.raises(AssertionError, match="output differs"):
        golden("new.txt", "other\n")
