"""The plan shared by `diff` and `apply`: the manifest against the database, task by task.

Each declared task is created, configured (which fields, before -> after), unchanged, or a
conflict (its name is owned by another set or was made by hand). A task of the set that the
manifest no longer declares is orphaned, or pruned when --prune is given. Reading costs a fixed
number of queries: the sets, then every relevant task in one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from scheduler_core.manifest.schema import Manifest, TaskSpec

ACTIONS = ("created", "configured", "unchanged", "conflict", "orphaned", "pruned")
# The spec fields compared, in manifest order (the same as models.SPEC_FIELDS).
SPEC_ORDER: tuple[str, ...] = (
    "type", "callable", "args", "kwargs", "queue", "enabled", "cron", "timezone", "interval", "repeat",
    "at", "timeout", "result_ttl", "failure_ttl", "at_front", "on_success", "on_failure", "on_stopped",
    "retry_max", "retry_backoff", "misfire", "overlap", "description",
)  # fmt: skip
JSON_FIELDS = frozenset({"args", "kwargs", "retry_backoff"})
ROW_FIELDS = ("id", "name", "task_set_id", "task_set__name", "queue", "pending_job_id", *SPEC_ORDER)


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass
class Entry:
    set: str
    name: str
    action: str
    changes: list[Change] = field(default_factory=list)
    spec: TaskSpec | None = None
    row: dict[str, Any] | None = None  # the task as it is in the DB (None when created)
    owner: str | None = None  # conflict: the set that owns the task; None = made by hand

    @property
    def task_id(self) -> int | None:
        return self.row["id"] if self.row else None

    @property
    def where(self) -> str:
        return self.spec.where if self.spec else ""

    def conflict_line(self) -> str:
        owner = f'set "{self.owner}"' if self.owner else "no set (it was made by hand)"
        return f'{self.where}: task "{self.name}" is owned by {owner}'


@dataclass
class SetPlan:
    name: str
    set_id: int | None
    entries: list[Entry] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for e in self.entries if e.action == action)

    def counts(self) -> dict[str, int]:
        return {a: self.count(a) for a in ACTIONS}


@dataclass
class Plan:
    sets: list[SetPlan]
    prune: bool

    def entries(self) -> Iterator[Entry]:
        for s in self.sets:
            yield from s.entries

    @property
    def conflicts(self) -> list[Entry]:
        return [e for e in self.entries() if e.action == "conflict"]

    @property
    def changes_pending(self) -> bool:
        """What `diff` exits 1 for: anything apply would write or refuse (orphans only with --prune)."""
        return any(e.action in ("created", "configured", "conflict", "pruned") for e in self.entries())

    def counts(self) -> dict[str, int]:
        return {a: sum(1 for e in self.entries() if e.action == a) for a in ACTIONS}


def spec_of_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in SPEC_ORDER:
        v = row[f]
        out[f] = v.astimezone(UTC).isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v
    return out


def json_value(value: Any) -> Any:
    """JSON data with every number as a Decimal of its text: PostgreSQL's jsonb keeps numbers as
    `numeric` and hands 3.7e+16 back as the int 37255199400826700, which is the same JSON."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def same(field: str, before: Any, after: Any) -> bool:
    if field in JSON_FIELDS:
        return bool(json_value(before) == json_value(after))
    return bool(before == after)


def diff_specs(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    return [
        Change(f, before.get(f), after.get(f)) for f in SPEC_ORDER if not same(f, before.get(f), after.get(f))
    ]


def in_chunk(using: str = "default") -> int:
    """How many values one `IN (...)` may carry on this connection (SQLite's compiled limit)."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor == "sqlite":
        import sqlite3

        conn.ensure_connection()
        limit: int = conn.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return max(500, limit - 100)
    return 30_000


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def read_rows(set_ids: Iterable[int], names: Sequence[str], using: str = "default") -> list[dict[str, Any]]:
    """Every task of these sets and every task with one of these names: one query per chunk."""
    from django.db.models import Q

    from scheduler_core.models import Task

    ids = list(set_ids)
    size = in_chunk(using)
    out: dict[int, dict[str, Any]] = {}
    for part in chunks(names, size) if names else [[]]:
        q = Q(name__in=list(part))
        if ids:
            q |= Q(task_set_id__in=ids)
        for row in Task.objects.using(using).filter(q).values(*ROW_FIELDS).order_by():
            out[row["id"]] = row
    return list(out.values())


def make_plan(
    manifest: Manifest,
    *,
    prune: bool = False,
    force_conflicts: bool = False,
    set_ids: dict[str, int] | None = None,
    using: str = "default",
) -> Plan:
    """Compare the manifest with the DB. `set_ids` (name -> id) when the caller already has them."""
    from scheduler_core.models import TaskSet

    names = list(manifest.sets)
    if set_ids is None:
        set_ids = dict(TaskSet.objects.using(using).filter(name__in=names).values_list("name", "id"))
    declared = [t.name for t in manifest.tasks]
    rows = read_rows(set_ids.values(), declared, using)
    by_name = {r["name"]: r for r in rows}
    claimed = set(declared)
    plans: list[SetPlan] = []
    for set_name, set_spec in manifest.sets.items():
        set_id = set_ids.get(set_name)
        sp = SetPlan(set_name, set_id)
        for spec in set_spec.tasks:
            sp.entries.append(_entry(spec, by_name.get(spec.name), set_id, force_conflicts))
        if set_id is not None:
            orphans = sorted((r for r in rows if r["task_set_id"] == set_id and r["name"] not in claimed),
                             key=lambda r: r["name"])  # fmt: skip
            for r in orphans:
                sp.entries.append(Entry(set_name, r["name"], "pruned" if prune else "orphaned", row=r))
        plans.append(sp)
    return Plan(plans, prune)


def _entry(spec: TaskSpec, row: dict[str, Any] | None, set_id: int | None, force: bool) -> Entry:
    if row is None:
        return Entry(spec.set_name, spec.name, "created", spec=spec)
    changes = diff_specs(spec_of_row(row), spec.spec())
    owned = set_id is not None and row["task_set_id"] == set_id
    if owned:
        return Entry(spec.set_name, spec.name, "configured" if changes else "unchanged", changes, spec, row)
    owner = row["task_set__name"]
    if not force:
        return Entry(spec.set_name, spec.name, "conflict", changes, spec, row, owner)
    changes.insert(0, Change("set", owner, spec.set_name))
    return Entry(spec.set_name, spec.name, "configured", changes, spec, row, owner)
