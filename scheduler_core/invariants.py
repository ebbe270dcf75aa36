"""The broker invariant the tests hold us to: every job id is in exactly one registry and has
its record, and every record is in a registry."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from scheduler_core.broker.keys import REGISTRIES
from scheduler_core.queues import Queue


@dataclass
class Report:
    in_registries: dict[str, int] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)  # ids in more than one registry (or twice in one)
    missing_record: list[str] = field(default_factory=list)  # an id whose record is gone
    orphan_records: list[str] = field(default_factory=list)  # a record in no registry

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.missing_record or self.orphan_records)


def check(queue: Queue, *, now: float | None = None) -> Report:
    """Scan one queue (O(all jobs): for tests and diagnostics, never on a hot path)."""
    t = time.time() if now is None else now
    r = queue.connection
    k = queue.keys
    seen: Counter[str] = Counter()
    report = Report()
    for name in REGISTRIES:
        key = k.registry(name)
        if name == "queued":
            ids = r.lrange(key, 0, -1)
        elif name in ("finished", "failed", "canceled"):
            ids = r.zrangebyscore(key, f"({t}", "+inf")  # expired entries are pruned lazily
        else:
            ids = r.zrange(key, 0, -1)
        report.in_registries[name] = len(ids)
        seen.update(ids)
    report.duplicates = sorted(i for i, n in seen.items() if n > 1)
    pipe = r.pipeline(transaction=False)
    ids = list(seen)
    for i in ids:
        pipe.exists(k.job(i))
    report.missing_record = sorted(i for i, e in zip(ids, pipe.execute(), strict=True) if not e)
    records = {key[len(k.job_prefix) :] for key in r.scan_iter(match=k.job_prefix + "*", count=1000)}
    report.orphan_records = sorted(records - set(seen))
    return report
