"""The broker invariant the tests hold us to: every job id is in exactly one registry, once, and
has its record; every record is in a registry; and the record's status matches its registry.

`check` reads the queue in one Lua script, so the report describes one instant even while workers,
schedulers and operators move jobs. It is O(all jobs) and blocks Redis while it runs: for tests
and diagnostics on bounded queues, never on a hot path.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scheduler_core.broker.keys import REGISTRIES
from scheduler_core.broker.scripts import scripts_for
from scheduler_core.queues.queue import Queue

# The statuses a record may have in each registry (a stopped job is kept in failed).
EXPECTED_STATUS: dict[str, tuple[str, ...]] = {
    "scheduled": ("scheduled",),
    "queued": ("queued",),
    "active": ("active",),
    "finished": ("finished",),
    "failed": ("failed", "stopped"),
    "canceled": ("canceled",),
}


@dataclass
class Report:
    in_registries: dict[str, int] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)  # ids in more than one registry (or twice in one)
    missing_record: list[str] = field(default_factory=list)  # an id whose record is gone
    orphan_records: list[str] = field(default_factory=list)  # a record in no registry
    wrong_status: list[str] = field(default_factory=list)  # "id: status in registry"
    ids: dict[str, str] = field(default_factory=dict)  # id -> the registry holding it

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.missing_record or self.orphan_records or self.wrong_status)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


@dataclass
class Snapshot:
    registries: dict[str, list[str]]  # live ids per registry, in registry order
    expired: set[str]  # ids of expired terminal entries (pruned lazily; their records expire)
    records: dict[str, str]  # record id -> status


def snapshot(queue: Queue, *, now: float | None = None) -> Snapshot:
    """The registries and records of one queue, read atomically."""
    t = time.time() if now is None else now
    k = queue.keys
    raw: list[Any] = scripts_for(queue.connection).snapshot(
        keys=[k.registry(name) for name in REGISTRIES],
        args=[repr(t), k.job_prefix, _glob_escape(k.job_prefix) + "*"],
    )
    registries = {name: [str(i) for i in ids] for name, ids in zip(REGISTRIES, raw[:6], strict=True)}
    flat = raw[7]
    records = {str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat), 2)}
    return Snapshot(registries, {str(i) for i in raw[6]}, records)


def check(queue: Queue, *, now: float | None = None) -> Report:
    """Check the invariant on one queue at one instant (see the module docstring)."""
    snap = snapshot(queue, now=now)
    records = snap.records
    report = Report()
    seen: Counter[str] = Counter()
    for name, ids in snap.registries.items():
        report.in_registries[name] = len(ids)
        seen.update(ids)
        for i in ids:
            report.ids[i] = name
            status = records.get(i)
            if status is not None and status not in EXPECTED_STATUS[name]:
                report.wrong_status.append(f"{i}: {status or '(none)'} in {name}")
    report.duplicates = sorted(i for i, n in seen.items() if n > 1)
    report.missing_record = sorted(i for i in seen if i not in records)
    report.orphan_records = sorted(set(records) - set(seen) - snap.expired)
    report.wrong_status.sort()
    return report
