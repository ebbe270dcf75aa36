"""Apply a manifest: one transaction, the set rows locked, bulk writes, the hook after commit.

The lock: on PostgreSQL each set's row is taken with SELECT ... FOR UPDATE (after creating it if
missing), so a concurrent apply of the same set waits, up to `lock_timeout` (SET LOCAL
lock_timeout). On SQLite the transaction starts with BEGIN IMMEDIATE, taking the database write
lock for the whole apply (busy_timeout = lock_timeout). Either way a lock not had in time is a
Conflict (exit 4) and nothing is written. The plan is computed after the lock is held.

Unchanged tasks get no write at all; created ones are one INSERT and configured ones one UPDATE
(only the fields that changed), each run for every row with executemany, so the statement count
does not grow with the manifest; pruned ones one DELETE. No per-row signals: the single
`replan.tasks_changed` call after commit covers them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from scheduler_core.errors import Conflict, InvalidInput
from scheduler_core.gcpause import gc_paused
from scheduler_core.manifest.plan import Entry, Plan, chunks, in_chunk, make_plan
from scheduler_core.manifest.problems import ManifestConflict
from scheduler_core.manifest.schema import Manifest


def check_prune(manifest: Manifest, *, prune: bool, allow_empty: bool) -> None:
    """--prune of a set that declares no task would delete all of it: that needs --allow-empty."""
    if prune and not allow_empty:
        for s in manifest.sets.values():
            if not s.tasks:
                raise InvalidInput(
                    f"set {s.name}: the manifest declares no task, so --prune would delete every task "
                    f"of the set; add --allow-empty to mean it"
                )


def apply_manifest(
    manifest: Manifest,
    *,
    prune: bool = False,
    force_conflicts: bool = False,
    allow_empty: bool = False,
    lock_timeout: float = 30.0,
    now: datetime | None = None,
    using: str = "default",
) -> Plan:
    """Write the manifest; returns the plan as carried out. Raises ManifestConflict, InvalidInput
    or Conflict (lock) with nothing written."""
    from django.db import IntegrityError, OperationalError, transaction
    from django.utils import timezone

    check_prune(manifest, prune=prune, allow_empty=allow_empty)
    stamp = now or timezone.now()
    names = sorted(manifest.sets)
    try:
        with gc_paused(), _locked_transaction(lock_timeout, using):
            set_ids = _lock_sets(names, using)
            plan = make_plan(manifest, prune=prune, force_conflicts=force_conflicts, set_ids=set_ids,
                             using=using)  # fmt: skip
            if plan.conflicts:
                raise ManifestConflict([e.conflict_line() for e in plan.conflicts])
            changed, deleted = _write(plan, stamp, using)
            if changed or deleted:
                touched = {s.set_id for s in plan.sets if any(e.action != "unchanged" for e in s.entries)}
                _stamp_sets(touched, stamp, using)
                transaction.on_commit(lambda: _notify(changed, deleted), using=using)
    except OperationalError as exc:
        if _is_lock_error(exc):
            held = ", ".join(names)
            raise Conflict(
                f"set {held} is being applied by another process "
                f"(lock not had within {lock_timeout:g}s); nothing was written"
            ) from None
        raise
    except IntegrityError as exc:
        raise Conflict(f"a concurrent change took a task name of this manifest ({exc}); nothing was "
                       "written: run it again") from None  # fmt: skip
    return plan


def _notify(changed: list[int], deleted: list[tuple[int, str, str]]) -> None:
    from scheduler_core.tasks import replan

    replan.tasks_changed(changed, deleted=deleted)


def _is_lock_error(exc: Exception) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in ("55P03", "40P01"):  # lock_not_available, deadlock
        return True
    return "database is locked" in str(exc) or "lock timeout" in str(exc)


@contextmanager
def _locked_transaction(lock_timeout: float, using: str) -> Iterator[None]:
    from django.db import connections, transaction

    conn = connections[using]
    ms = max(1, int(lock_timeout * 1000))
    if conn.vendor == "sqlite" and not conn.in_atomic_block:
        conn.ensure_connection()
        with conn.cursor() as cur:
            cur.execute("PRAGMA busy_timeout")
            previous = cur.fetchone()[0]
            cur.execute(f"PRAGMA busy_timeout = {ms}")
        mode = conn.transaction_mode  # type: ignore[attr-defined]
        conn.transaction_mode = "IMMEDIATE"  # type: ignore[attr-defined]
        try:
            with transaction.atomic(using=using):
                conn.transaction_mode = mode  # type: ignore[attr-defined]
                yield
        finally:
            conn.transaction_mode = mode  # type: ignore[attr-defined]
            if conn.connection is not None:
                with conn.cursor() as cur:
                    cur.execute(f"PRAGMA busy_timeout = {int(previous)}")
        return
    with transaction.atomic(using=using):
        if conn.vendor == "postgresql":
            with conn.cursor() as cur:
                cur.execute(f"SET LOCAL lock_timeout = '{ms}ms'")
        yield


def _lock_sets(names: list[str], using: str) -> dict[str, int]:
    """Each set's row, created if missing, locked until commit (FOR UPDATE; a no-op on SQLite)."""
    from scheduler_core.models import TaskSet

    def locked() -> dict[str, int]:
        qs = TaskSet.objects.using(using).select_for_update().filter(name__in=names).order_by("name")
        return dict(qs.values_list("name", "id"))

    ids = locked()
    missing = [n for n in names if n not in ids]
    if missing:
        TaskSet.objects.using(using).bulk_create([TaskSet(name=n) for n in missing], ignore_conflicts=True)
        ids = locked()
    return ids


def _stamp_sets(set_ids: set[int | None], stamp: datetime, using: str) -> None:
    from scheduler_core.models import TaskSet

    TaskSet.objects.using(using).filter(pk__in=[i for i in set_ids if i is not None]).update(applied_at=stamp)


def _model(entry: Entry, set_id: int | None, stamp: datetime) -> Any:
    from scheduler_core.models import Task

    assert entry.spec is not None
    task = Task(name=entry.name, task_set_id=set_id, **entry.spec.fields)
    if entry.row is not None:
        task.pk = entry.row["id"]
        task.updated_at = stamp
    task.spec_hash = task.compute_spec_hash()
    return task


def _insert(tasks: list[Any], using: str) -> None:
    """One INSERT statement run for every row (executemany): Django's bulk_create splits the rows
    into 999-parameter statements on SQLite (~190 for 5,000 tasks) and prepares each row's SQL;
    this prepares the values the same way (pre_save, get_db_prep_save) and sends them in one go."""
    from django.db import connections

    from scheduler_core.models import Task

    conn = connections[using]
    fields = [f for f in Task._meta.concrete_fields if not f.primary_key]
    qn = conn.ops.quote_name
    sql = (f"INSERT INTO {qn(Task._meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")  # fmt: skip
    rows = [[f.get_db_prep_save(f.pre_save(t, True), conn) for f in fields] for t in tasks]
    with conn.cursor() as cur:
        cur.executemany(sql, rows)


def _update(tasks: list[Any], names: list[str], using: str) -> None:
    """One UPDATE by primary key run for every row (executemany: psycopg pipelines it, SQLite runs
    it in-process), setting only `names`; bulk_update would build CASE WHEN statements instead, one
    per batch, whose size grows with the rows and whose planning time grows faster."""
    from django.db import connections

    from scheduler_core.models import Task

    conn = connections[using]
    qn = conn.ops.quote_name
    fields: list[Any] = [Task._meta.get_field(n) for n in names]  # concrete fields, all of them
    pk = Task._meta.pk
    assert pk is not None
    sets = ", ".join(f"{qn(str(f.column))} = %s" for f in fields)
    sql = f"UPDATE {qn(Task._meta.db_table)} SET {sets} WHERE {qn(str(pk.column))} = %s"
    rows = [[*(f.get_db_prep_save(getattr(t, f.attname), conn) for f in fields), t.pk] for t in tasks]
    with conn.cursor() as cur:
        cur.executemany(sql, rows)


def _write(plan: Plan, stamp: datetime, using: str) -> tuple[list[int], list[tuple[int, str, str]]]:
    """Insert, update and delete per the plan; returns (changed ids, deleted (id, queue, job id))."""
    from scheduler_core.models import Task

    created: list[Any] = []
    updated: list[Any] = []
    fields: set[str] = set()
    doomed: list[dict[str, Any]] = []
    for sp in plan.sets:
        for e in sp.entries:
            if e.action == "created":
                created.append(_model(e, sp.set_id, stamp))
            elif e.action == "configured":
                updated.append(_model(e, sp.set_id, stamp))
                fields.update("task_set" if c.field == "set" else c.field for c in e.changes)
            elif e.action == "pruned" and e.row is not None:
                doomed.append(e.row)
    manager = Task.objects.using(using)
    changed: list[int] = []
    if created:
        _insert(created, using)
        ids: dict[str, int] = {}
        for part in chunks([t.name for t in created], in_chunk(using)):
            ids.update(manager.filter(name__in=list(part)).values_list("name", "id"))
        changed += [ids[t.name] for t in created]
    if updated:
        _update(updated, sorted(fields | {"spec_hash", "updated_at"}), using)
        changed += [t.pk for t in updated]
    deleted = [(r["id"], r["queue"], r["pending_job_id"]) for r in doomed]
    for part in chunks([r["id"] for r in doomed], in_chunk(using)):
        # _raw_delete: one DELETE, no per-row post_delete signal (tasks_changed covers them once).
        manager.filter(pk__in=list(part))._raw_delete(using)
    return changed, deleted
