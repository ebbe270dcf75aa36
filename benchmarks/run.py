#!/usr/bin/env python
"""Run the benchmark scenarios for taskctl and its peers on one Redis, and print medians and ratios.

    benchmarks/setup_peers.sh && .venv/bin/python benchmarks/run.py [SCENARIO...] [--quick]

Each scenario script (benchmarks/scenarios/NAME.py) runs once per system and variant, as a
subprocess of that system's own virtualenv: taskctl in the project's .venv, RQ and
django-tasks-scheduler in benchmarks/.venv-peers. The Redis database given by --redis-url is
flushed (FLUSHDB, that database only) before every run. Results: a table on stdout, and one JSON
line per run plus one per case (medians) in benchmarks/results/<timestamp>.jsonl.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PEERS_PYTHON = BENCH_DIR / ".venv-peers" / "bin" / "python"
RESULTS_DIR = BENCH_DIR / "results"


@dataclass
class Case:
    system: str  # taskctl | rq | dts
    variant: str = "default"
    args: tuple[str, ...] = ()
    repeat: int | None = None  # None: the scenario's
    against: str | None = None  # the taskctl variant a peer's ratio is taken against (None: same name)


@dataclass
class Scenario:
    cases: list[Case]
    metrics: list[tuple[str, bool]]  # (dotted key in the JSON line, higher is better)
    repeat: int = 3
    quick_args: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # figures computed from the medians, printed as rows of their own: (label, metric, function)
    derived: list[tuple[str, str, Callable[[Medians], float | None]]] = field(default_factory=list)


Medians = dict[tuple[str, str], dict[str, float | None]]


def _per_process(meds: Medians) -> float | None:
    """idle_memory: PSS of each execution process after the first, (c8 - c1) / 7."""
    c1, c8 = meds.get(("taskctl", "c1"), {}).get("pss_mib"), meds.get(("taskctl", "c8"), {}).get("pss_mib")
    return None if c1 is None or c8 is None else (c8 - c1) / 7


def _c8_vs_pool(meds: Medians) -> float | None:
    mine = meds.get(("taskctl", "c8"), {}).get("pss_mib")
    theirs = meds.get(("rq", "pool8"), {}).get("pss_mib")
    return None if mine is None or not theirs else mine / theirs


SCENARIOS: dict[str, Scenario] = {
    "enqueue_single": Scenario(
        [Case("taskctl"), Case("rq"), Case("dts")], [("jobs_per_s", True)], quick_args=("--n", "2000")
    ),
    "django_tasks_enqueue": Scenario(
        [Case("taskctl", "backend"), Case("rq", "backend")],
        [("jobs_per_s", True), ("own_jobs_per_s", True), ("backend_vs_own", True)],
        quick_args=("--n", "2000"),
    ),
    "enqueue_bulk": Scenario(
        [Case("taskctl"), Case("rq")], [("jobs_per_s", True)], quick_args=("--n", "20000")
    ),
    "drain": Scenario(
        [
            Case("taskctl", "c1"),
            Case("taskctl", "c2"),
            # RQ's forking Worker and django-tasks-scheduler drain at 12-50 jobs/s on this machine:
            # 2,000 jobs, one run, give a steady rate without a quarter-hour per case.
            Case("rq", "worker", ("--n", "2000"), repeat=1),
            Case("rq", "simple"),
            Case("dts", "fork", ("--n", "2000"), repeat=1),
            Case("dts", "nofork", ("--n", "2000"), repeat=1),
        ],
        [("jobs_per_s", True), ("jobs_per_s_process", True)],
        quick_args=("--n", "1000"),
    ),
    "latency": Scenario(
        [Case("taskctl", "c1"), Case("rq", "simple"), Case("rq", "worker"), Case("dts", "nofork")],
        [("p50_ms", False), ("p99_ms", False)],
        quick_args=("--samples", "50"),
    ),
    "idle_memory": Scenario(
        [
            Case("taskctl", "c1"),
            Case("taskctl", "c8"),
            Case("taskctl", "floor1"),
            Case("taskctl", "floor3"),
            Case("rq", "worker", against="c1"),
            Case("rq", "pool8", against="c8"),  # rq worker-pool -n 8 beside worker start -c 8
            Case("dts", "fork", against="c1"),
        ],
        [("pss_mib", False)],
        derived=[
            ("taskctl/each process after the first", "pss_mib", _per_process),
            ("taskctl c8 / rq pool8", "pss_ratio", _c8_vs_pool),
        ],
    ),
    "queues_show": Scenario(
        [Case("taskctl"), Case("rq"), Case("dts")],
        [("median_s", False)],
        repeat=1,
        quick_args=("--jobs", "20000", "--runs", "3"),
    ),
    # taskctl only (the peers' admin pages are other pages): the target is <= 100 ms server time.
    "admin_queues_page": Scenario(
        [Case("taskctl")], [("median_ms", False)], repeat=1, quick_args=("--jobs", "20000", "--runs", "10")
    ),
    "scheduler_pass": Scenario(
        [
            Case("taskctl", "10k", ("--total", "10000")),
            Case("taskctl", "100k", ("--total", "100000")),
            Case("dts", "10k", ("--total", "10000")),
            Case("dts", "100k", ("--total", "100000")),
        ],
        [("seconds", False), ("queries", False)],
        repeat=1,
    ),
    "lateness": Scenario(
        [Case("taskctl"), Case("dts")],
        [
            ("every1s.median_s", False),
            ("every1s.max_s", False),
            ("every1s.runs_ratio", True),
            ("every10s.median_s", False),
            ("every10s.max_s", False),
            ("every10s.runs_ratio", True),
        ],
        repeat=1,
        quick_args=("--duration", "20"),
    ),
}


def python_for(system: str) -> Path:
    if system == "taskctl":
        return REPO_DIR / ".venv" / "bin" / "python"
    if not PEERS_PYTHON.exists():
        sys.exit("benchmarks: the peers' virtualenv is missing: run benchmarks/setup_peers.sh first")
    return PEERS_PYTHON


def dig(record: dict[str, Any], dotted: str) -> float | None:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, (int, float)) and value is not None else None


def run_once(name: str, case: Case, url: str, extra: tuple[str, ...], log: Path) -> dict[str, Any]:
    redis.Redis.from_url(url).flushdb()
    argv = [
        str(python_for(case.system)), str(BENCH_DIR / "scenarios" / f"{name}.py"),
        "--system", case.system, "--variant", case.variant, "--redis-url", url, *case.args, *extra,
    ]  # fmt: skip
    env = dict(os.environ, BENCH_PROCESS_LOG=str(log), PYTHONPATH=str(BENCH_DIR))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with open(log, "ab") as err:
        proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=err, timeout=3600)
    lines = [ln for ln in proc.stdout.decode().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}; see {log}", "system": case.system, "variant": case.variant}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenarios", nargs="*", help=f"default: all of {', '.join(SCENARIOS)}")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="its database is FLUSHed")
    p.add_argument("--systems", default="taskctl,rq,dts", help="comma-separated subset")
    p.add_argument("--repeat", type=int, help="runs per case (default: each scenario's own)")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    opts = p.parse_args()
    names = opts.scenarios or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s): {', '.join(unknown)}")
    systems = set(opts.systems.split(","))
    redis.Redis.from_url(opts.redis_url).ping()

    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_path = RESULTS_DIR / f"{stamp}.jsonl"
    log = RESULTS_DIR / f"{stamp}.log"
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    rows: list[tuple[str, str, str, str, str, str]] = []
    with open(out_path, "w") as out:
        out.write(json.dumps({"kind": "machine", **machine, "redis_url": opts.redis_url}) + "\n")
        for name in names:
            scn = SCENARIOS[name]
            extra = scn.quick_args if opts.quick else ()
            medians: dict[tuple[str, str], dict[str, float | None]] = {}
            for case in scn.cases:
                if case.system not in systems:
                    continue
                n = opts.repeat or case.repeat or scn.repeat
                runs = []
                for i in range(n):
                    print(
                        f"[{name}] {case.system}/{case.variant} run {i + 1}/{n}", file=sys.stderr, flush=True
                    )
                    rec = run_once(name, case, opts.redis_url, extra, log)
                    out.write(json.dumps({"kind": "run", **rec}) + "\n")
                    out.flush()
                    runs.append(rec)
                    if "skipped" in rec or "error" in rec:
                        break
                meds: dict[str, float | None] = {}
                for key, _ in scn.metrics:
                    vals = [v for v in (dig(r, key) for r in runs) if v is not None]
                    meds[key] = statistics.median(vals) if vals else None
                note = runs[-1].get("skipped") or runs[-1].get("error") or ""
                medians[(case.system, case.variant)] = meds
                out.write(json.dumps({"kind": "median", "scenario": name, "system": case.system,
                                      "variant": case.variant, "runs": len(runs), "medians": meds,
                                      "note": note}) + "\n")  # fmt: skip
                for key, higher in scn.metrics:
                    ratio = ""
                    if case.system != "taskctl":
                        base = medians.get(("taskctl", case.against or case.variant)) or next(
                            (m for (s, _), m in medians.items() if s == "taskctl"), None
                        )
                        mine, theirs = (base or {}).get(key), meds.get(key)
                        if mine is not None and theirs:
                            ratio = f"{mine / theirs:.2f}"
                    direction = "higher" if higher else "lower"
                    shown = fmt(meds.get(key)) if not note else note[:60]
                    rows.append((name, f"{case.system}/{case.variant}", key, f"{shown}", direction, ratio))
            for label, metric, compute in scn.derived:
                value = compute(medians)
                out.write(json.dumps({"kind": "derived", "scenario": name, "label": label, "metric": metric,
                                      "value": value}) + "\n")  # fmt: skip
                rows.append((name, label, metric, fmt(value), "lower", ""))
    widths = [max(len(r[i]) for r in [*rows, HEADER]) for i in range(len(HEADER))]
    for row in [HEADER, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(f"\nresults: {out_path}\nlog: {log}")


HEADER = ("scenario", "system/variant", "metric", "median", "better", "taskctl/peer")

if __name__ == "__main__":
    main()
