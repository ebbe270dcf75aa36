"""Shared helpers for the benchmark scenarios: paths, arguments, statistics, processes, memory.

Standard library and redis only, so that it imports in the project's venv and the peers' venv.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BENCH_DIR.parent
PEERS_PYTHON = BENCH_DIR / ".venv-peers" / "bin" / "python"
PROJECT_PYTHON = REPO_DIR / ".venv" / "bin" / "python"
DTS_PROJECT = BENCH_DIR / "peers" / "dts_project"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
NOOP = "benchlib.jobs.noop"
FAIL = "benchlib.jobs.fail"
STAMP = "benchlib.jobs.stamp"


class NotAvailable(Exception):
    """A piece of a system that a scenario needs is not there (yet): the scenario is skipped."""


def scenario_args(description: str, systems: Sequence[str], **defaults: Any) -> argparse.Namespace:
    """The arguments every scenario script takes, plus its own defaults (n, duration, ...)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--system", choices=list(systems), required=True)
    p.add_argument("--variant", default="default", help="a system-specific variant (see the script)")
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    for name, value in defaults.items():
        p.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    args = p.parse_args()
    os.environ["BENCH_REDIS_URL"] = args.redis_url
    return args


def emit(scenario: str, args: argparse.Namespace, **fields: Any) -> None:
    """Print the scenario's one JSON line on stdout."""
    record = {"scenario": scenario, "system": args.system, "variant": args.variant, **fields}
    print(json.dumps(record, sort_keys=False), flush=True)


def skipped(scenario: str, args: argparse.Namespace, reason: str) -> None:
    emit(scenario, args, skipped=reason)


def redis_client(url: str | None = None) -> Any:
    import redis

    return redis.Redis.from_url(url or os.environ["BENCH_REDIS_URL"])


def flush(url: str) -> None:
    """FLUSHDB on the benchmark database only (never FLUSHALL)."""
    redis_client(url).flushdb()


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def run_timed(
    argv: Sequence[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 600
) -> float:
    """Run a whole command to completion; its wall time in seconds. A non-zero exit raises."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return elapsed


def start(argv: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a long-running process (a worker) in its own process group; its output is discarded."""
    log = open(os.environ.get("BENCH_PROCESS_LOG", os.devnull), "ab")  # noqa: SIM115
    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=log, start_new_session=True)


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Warm stop (SIGTERM to its group), then SIGKILL if it does not exit in time."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def descendants(pid: int) -> list[int]:
    """pid and every process below it, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def pss_kib(pid: int) -> int:
    """Proportional set size of one process (KiB), from /proc/PID/smaps_rollup."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_pss_kib(pid: int) -> tuple[int, int]:
    """(summed PSS in KiB, number of processes) over pid's process tree."""
    tree = descendants(pid)
    return sum(pss_kib(p) for p in tree), len(tree)


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process: benchlib importable, the benchmark Redis URL set."""
    env = dict(os.environ)
    paths = [str(BENCH_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # every system may cache its bytecode, as an installed package does (taskctl is an editable
    # install: without its .pyc files it would recompile itself on every timed run)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    return env


def clone_jobs(url: str, templates: dict[str, str], counts: dict[str, int], batch: int = 2000) -> int:
    """Copy real job records, made by the system itself, into many jobs with the same layout.

    `templates` maps a label to the id of a job the system created (e.g. "finished" -> its id);
    `counts` says how many copies each label gets. For each template every key of the database
    whose name contains the id (the job hash, a results stream, ...) is copied under the new id,
    with the id rewritten inside its field values; and every list, set and sorted set holding
    the id as a member gets the new id too (same score). So the copies sit exactly where the
    system would have put them, without knowing its layout here.
    """
    r = redis_client(url)
    all_keys = [k.decode() for k in r.scan_iter(count=5000)]
    total = 0
    for label, job_id in templates.items():
        own = [k for k in all_keys if job_id in k]
        holders: list[tuple[str, str, Any]] = []
        for key in all_keys:
            if job_id in key:
                continue
            kind = r.type(key).decode()
            if kind == "zset":
                score = r.zscore(key, job_id)
                if score is not None:
                    holders.append((key, kind, score))
            elif (kind == "set" and r.sismember(key, job_id)) or (
                kind == "list" and job_id.encode() in r.lrange(key, 0, -1)
            ):
                holders.append((key, kind, None))
        copies: list[tuple[str, str, Any]] = []
        for key in own:
            kind = r.type(key).decode()
            if kind == "hash":
                copies.append((key, kind, r.hgetall(key)))
            elif kind == "stream":
                copies.append((key, kind, [dict(e[1]) for e in r.xrange(key)]))
        old_b = job_id.encode()
        pipe = r.pipeline(transaction=False)
        for i in range(counts.get(label, 0)):
            new_id = f"bench-{label}-{i:07d}"
            for key, kind, payload in copies:
                new_key = key.replace(job_id, new_id)
                if kind == "hash":
                    pipe.hset(
                        new_key, mapping={f: v.replace(old_b, new_id.encode()) for f, v in payload.items()}
                    )
                else:
                    for entry in payload:
                        pipe.xadd(new_key, entry)
            for key, kind, score in holders:
                if kind == "zset":
                    pipe.zadd(key, {new_id: score})
                elif kind == "set":
                    pipe.sadd(key, new_id)
                else:
                    pipe.rpush(key, new_id)
            if (i + 1) % batch == 0:
                pipe.execute()
        pipe.execute()
        total += counts.get(label, 0)
    return total


def die(message: str) -> None:
    print(f"benchmarks: {message}", file=sys.stderr)
    sys.exit(2)
