"""The hostile-input corpus (corpus.yaml): each entry's exit code and first line, and never a
traceback, whatever the input (arguments, environment, manifests, broker records)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scheduler_core.queues.queue import get_queue
from tests.cli import cli, machine_free

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent
REPO = HERE.parent.parent
CORPUS: list[dict[str, Any]] = yaml.safe_load((HERE / "corpus.yaml").read_text(encoding="utf-8"))["entries"]
NESTED = "[" * 60_000
JOB = "corrupt-record-1"

BOMB = (
    "version: 1\nset: s\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "tasks: []\n"
)


def _manifest_bytes(spec: str) -> bytes:
    if spec == "bomb":
        return BOMB.encode()
    if spec == "huge":
        return b"version: 1\n" + b"# padding\n" * (17 * 1024 * 1024 // 10)
    if spec == "nested":
        return b"version: 1\nset: s\ntasks: " + b"[" * 60_000 + b"\n"
    if spec == "latin1":
        return "version: 1\nset: s\n# caf\u00e9\ntasks: []\n".encode("latin-1")
    return spec.encode("utf-8")


def _plant(record: dict[str, Any]) -> None:

    q = get_queue("default")
    key = q.keys.job(JOB)
    if "string" in record:
        q.connection.set(key, record["string"])
    else:
        q.connection.hset(key, mapping=record["hash"])
    q.connection.rpush(q.keys.queued, JOB)


def _subprocess(entry: dict[str, Any], argv: list[str], tmp: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKCTL_", "DJANGO_"))}
    env.update({"PYTHONPATH": str(REPO), "TASKCTL_DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}"})
    env.update(entry["env"])
    proc = subprocess.run(
        [sys.executable, "-m", "taskctl", *argv], env=env, cwd=tmp, capture_output=True, text=True,
        timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


def _first(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def test_corpus_is_big_and_complete() -> None:
    assert len(CORPUS) >= 40
    assert len({e["name"] for e in CORPUS}) == len(CORPUS)
    assert all("exit" in e and "first" in e for e in CORPUS), [e["name"] for e in CORPUS if "first" not in e]
    kinds = {"env" if "env" in e else "record" if "record" in e else "manifest" if "manifest" in e else "argv"
             for e in CORPUS}  # fmt: skip
    assert kinds == {"env", "record", "manifest", "argv"}


@pytest.mark.parametrize("entry", CORPUS, ids=[e["name"] for e in CORPUS])
def test_entry(entry: dict[str, Any], tmp_path: Path, key_prefix: str) -> None:
    manifest = tmp_path / "m.yaml"
    if "manifest" in entry:
        manifest.write_bytes(_manifest_bytes(entry["manifest"]))
    if "record" in entry:
        _plant(entry["record"])
    subs = {"{manifest}": str(manifest), "{nested}": NESTED, "{job}": JOB}

    def fill(text: str) -> str:
        for k, v in subs.items():
            text = text.replace(k, v)
        return text

    argv = [fill(a) for a in entry["argv"]]
    if "env" in entry:
        code, stdout, stderr = _subprocess(entry, argv, tmp_path)
    else:
        out = cli(*argv)
        code, stdout, stderr = out.code, out.stdout, out.stderr
    stream = machine_free(stdout if entry.get("stdout") else stderr)
    assert "Traceback" not in stdout + stderr, stderr[-2000:]
    assert (code, _first(stream)) == (entry["exit"], fill(entry.get("first", ""))), stderr[-1000:]
    for secret in ("topsecret", "s3cr?t", "top#secret", "se:cret"):
        assert secret not in stdout + stderr
