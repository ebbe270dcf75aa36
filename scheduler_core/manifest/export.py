"""Export sets as manifests `apply` accepts: spec only (no status), defaults omitted, times in
ISO-8601 UTC with Z, durations as compact strings (15m, 1h30m). `--all` gives one YAML document
per set, separated by `---`; the loader reads multi-document streams."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from scheduler_core.errors import NotFound
from scheduler_core.manifest.durations import format_compact
from scheduler_core.manifest.fields import FOREVER
from scheduler_core.manifest.plan import SPEC_ORDER
from scheduler_core.manifest.schema import FIELD_DEFAULTS

DURATIONS = ("interval", "timeout", "result_ttl", "failure_ttl")


def task_document(row: dict[str, Any]) -> dict[str, Any]:
    """One task as a manifest entry: name, type, callable, then each non-default key."""
    out: dict[str, Any] = {"name": row["name"], "type": row["type"], "callable": row["callable"]}
    for f in SPEC_ORDER:
        if f in ("type", "callable", "retry_max", "retry_backoff"):
            continue
        value = row[f]
        if value == FIELD_DEFAULTS[f] and type(value) is type(FIELD_DEFAULTS[f]):
            continue
        if f in ("result_ttl", "failure_ttl") and value == -1:
            value = FOREVER
        elif f in DURATIONS and value is not None:
            value = format_compact(value)
        elif isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        out[f] = value
    if row["retry_max"] or row["retry_backoff"]:
        retry: dict[str, Any] = {"max": row["retry_max"]}
        if row["retry_backoff"]:
            retry["backoff"] = [format_compact(s) for s in row["retry_backoff"]]
        out["retry"] = retry
    return out


def export_sets(names: Sequence[str] | None) -> list[dict[str, Any]]:
    """A manifest per set (`names`, or every set when None), in name order."""
    from scheduler_core.models import Task, TaskSet

    sets = TaskSet.objects.order_by("name")
    if names is not None:
        from scheduler_core.tasks.lookup import searchable

        found = dict(sets.filter(name__in=[n for n in names if searchable(n)]).values_list("name", "id"))
        missing = [n for n in names if n not in found]
        if missing:
            raise NotFound(f"set {missing[0]!r} not found")
    else:
        found = dict(sets.values_list("name", "id"))
    by_set: dict[int, list[dict[str, Any]]] = {i: [] for i in found.values()}
    rows = Task.objects.filter(task_set_id__in=list(found.values())).order_by("name")
    for row in rows.values("name", "task_set_id", *SPEC_ORDER):
        by_set[row["task_set_id"]].append(task_document(row))
    return [{"version": 1, "set": name, "tasks": by_set[i]} for name, i in sorted(found.items())]


def dump(documents: list[dict[str, Any]]) -> str:
    """YAML text: one document per set, `---` between them (empty when there is none)."""
    import yaml

    return yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True, width=100) if documents else ""
