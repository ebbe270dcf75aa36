"""`taskctl tasks validate | diff | apply | export`: declare tasks from YAML manifests (docs/manifest.md).

Parsing, validation, the plan and the writes live in scheduler_core.manifest; this module reads
the flags, prints the plan and the per-set summaries, and maps the outcome to an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from taskctl import bootstrap
from taskctl.numbers import DAY, seconds
from taskctl.render import Format, OutputOption

if TYPE_CHECKING:
    from scheduler_core.manifest import Manifest
    from scheduler_core.manifest.plan import Plan

FilesOption = Annotated[
    list[str],
    typer.Option("-f", "--file", help="Manifest file, directory (*.yaml, *.yml) or - for stdin; repeatable."),
]
PruneOption = Annotated[
    bool, typer.Option("--prune", help="Delete the set's tasks that the manifest no longer declares.")
]
COLUMNS = [("set", "set"), ("name", "task"), ("action", "action"), ("changes", "changes")]


@contextmanager
def _reported() -> Iterator[None]:
    """Manifest errors and conflicts: one line each on stderr, then the exit code's summary."""
    from scheduler_core.manifest import ManifestConflict, ManifestInvalid

    try:
        yield
    except ManifestInvalid as exc:
        sys.stderr.write("".join(f"{p}\n" for p in exc.problems))
        raise
    except ManifestConflict as exc:
        sys.stderr.write("".join(f"{line}\n" for line in exc.lines))
        raise


def _load(files: list[str]) -> Manifest:
    from scheduler_core.manifest import load_manifest

    with _reported():
        return load_manifest(files, sys.stdin)


def _db() -> None:
    bootstrap.setup_django()
    bootstrap.check_database()


def _value(v: Any, arrow_safe: bool) -> str:
    from taskctl.render import compact_json

    if v is None or v == "":
        return "-"
    if isinstance(v, (list, dict)):
        return compact_json(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _changes_text(changes: list[Any], table: bool) -> str:
    arrow = " → " if table else " -> "
    return "; ".join(f"{c.field}: {_value(c.before, table)}{arrow}{_value(c.after, table)}" for c in changes)


def _records(plan: Plan, fmt: Format) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    structured = fmt in (Format.json, Format.yaml)
    for e in plan.entries():
        if fmt is Format.table and e.action == "unchanged":
            continue  # people see what changes; plain / json / yaml list every task
        rec: dict[str, Any] = {"set": e.set, "name": e.name, "action": e.action}
        if structured:
            rec["source"] = e.where or None
            if e.action == "conflict" or e.owner is not None:
                rec["owner"] = e.owner
            rec["changes"] = [{"field": c.field, "before": c.before, "after": c.after} for c in e.changes]
        else:
            text = _changes_text(e.changes, fmt is Format.table)
            if e.action == "conflict":
                who = f"set {e.owner}" if e.owner else "made by hand"
                text = f"owned by {who}" + (f"; {text}" if text else "")
            rec["changes"] = text
        out.append(rec)
    return out


def _emit_plan(plan: Plan, output: Format | None, *, dry_run: bool = False) -> None:
    from taskctl.render import emit, resolve

    fmt = resolve(output)
    extra = {
        "prune": plan.prune,
        "dry_run": dry_run,
        "changes_pending": plan.changes_pending,
        "sets": [{"name": s.name, **s.counts()} for s in plan.sets],
    }
    records = _records(plan, fmt)
    if fmt is Format.table and not records:
        return  # nothing to show: the per-set summary line on stderr says "unchanged"
    emit(fmt, "plan", "tasks", records, COLUMNS, extra=extra, title="plan")


def _summaries(plan: Plan, *, done: bool) -> None:
    from taskctl.render import info

    for s in plan.sets:
        c = s.counts()
        if done:
            line = (f"set {s.name}: {c['created']} created, {c['configured']} configured, "
                    f"{c['unchanged']} unchanged, {c['pruned']} pruned")  # fmt: skip
        else:
            line = (f"set {s.name}: {c['created']} to create, {c['configured']} to configure, "
                    f"{c['unchanged']} unchanged, {c['pruned']} to prune")  # fmt: skip
            if c["conflict"]:
                line += f", {c['conflict']} conflict" + ("" if c["conflict"] == 1 else "s")
        if c["orphaned"]:
            line += f", {c['orphaned']} orphaned (kept; --prune deletes them)"
        info(line)


def validate(files: FilesOption, output: Format | None = OutputOption) -> None:
    """Check manifests without a database or broker: every error, one line each; exit 3 if any.
    With -o json|yaml a document on stdout lists the errors as {file, line, path, message}."""
    from scheduler_core.manifest import ManifestInvalid, load_manifest
    from taskctl.render import emit_object, info, resolve

    bootstrap.setup_django()
    structured = resolve(output) in (Format.json, Format.yaml)
    if not structured:
        manifest = _load(files)
    else:
        try:
            manifest = load_manifest(files, sys.stdin)
        except ManifestInvalid as exc:
            errors = [
                {"file": p.file, "line": p.line, "path": p.path, "message": p.message} for p in exc.problems
            ]
            emit_object(output, "validation", {"valid": False, "sets": [], "tasks": 0, "errors": errors})
            raise
    sets = [{"name": s.name, "tasks": len(s.tasks)} for s in manifest.sets.values()]
    n = len(manifest.tasks)
    if structured:
        emit_object(output, "validation", {"valid": True, "sets": sets, "tasks": n, "errors": []})
        return
    per_set = ", ".join(f"{s['name']}: {s['tasks']}" for s in sets)
    info(f"valid: {len(sets)} set{'' if len(sets) == 1 else 's'}, "
         f"{n} task{'' if n == 1 else 's'} ({per_set})")  # fmt: skip


def diff(files: FilesOption, prune: PruneOption = False, output: Format | None = OutputOption) -> None:
    """What apply would do. Exit 0 in sync, 1 with changes pending (conflicts included;
    orphans only count with --prune), 3 invalid manifest."""
    from scheduler_core.manifest.plan import make_plan

    bootstrap.setup_django()
    manifest = _load(files)
    bootstrap.check_database()
    plan = make_plan(manifest, prune=prune)
    _emit_plan(plan, output)
    _summaries(plan, done=False)
    if plan.changes_pending:
        raise typer.Exit(1)


def apply(
    files: FilesOption,
    prune: PruneOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")] = False,
    force_conflicts: Annotated[
        bool, typer.Option("--force-conflicts", help="Take over tasks owned by another set or made by hand.")
    ] = False,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Let --prune delete every task of a set.")
    ] = False,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            min=0.0,
            callback=seconds("--lock-timeout", DAY),
            help="Seconds to wait for a concurrent apply (0 to 86400).",
        ),
    ] = 30.0,
    output: Format | None = OutputOption,
) -> None:
    """Make the database match the manifest, in one transaction (exit 4 on conflicts)."""
    from scheduler_core.manifest import ManifestConflict
    from scheduler_core.manifest.apply import apply_manifest, check_prune
    from scheduler_core.manifest.plan import make_plan

    bootstrap.setup_django()
    manifest = _load(files)
    bootstrap.check_database()
    with _reported():
        if dry_run:
            check_prune(manifest, prune=prune, allow_empty=allow_empty)
            plan = make_plan(manifest, prune=prune, force_conflicts=force_conflicts)
            _emit_plan(plan, output, dry_run=True)
            _summaries(plan, done=False)
            if plan.conflicts:
                raise ManifestConflict([e.conflict_line() for e in plan.conflicts])
            from taskctl.render import info

            info("dry run: nothing was written")
            return
        plan = apply_manifest(
            manifest, prune=prune, force_conflicts=force_conflicts, allow_empty=allow_empty,
            lock_timeout=lock_timeout,
        )  # fmt: skip
    _emit_plan(plan, output)
    _summaries(plan, done=True)


def export(
    set_name: Annotated[str | None, typer.Option("--set", help="The set to export.")] = None,
    all_sets: Annotated[bool, typer.Option("--all", help="Every set, one YAML document each.")] = False,
    output: Annotated[
        Format | None,
        typer.Option(
            "-o", "--output", help="yaml (default: manifests apply accepts) | json (a `manifests` document)."
        ),
    ] = None,
) -> None:
    """Print a set's tasks as a manifest apply accepts (spec only, no status)."""
    from scheduler_core.errors import UsageError
    from scheduler_core.manifest.export import dump, export_sets
    from taskctl.render import document, dump_json

    if (set_name is None) == (not all_sets):
        raise UsageError("give exactly one of --set NAME or --all")
    _db()
    documents = export_sets(None if all_sets else [set_name or ""])
    if output is Format.json:
        sys.stdout.write(dump_json(document("manifests", {"manifests": documents})) + "\n")
    else:
        sys.stdout.write(dump(documents))  # a manifest is text: table and plain are the YAML too


def register(app: typer.Typer) -> None:
    """Add this module's commands to `taskctl tasks`."""
    app.command("validate")(validate)
    app.command("diff")(diff)
    app.command("apply")(apply)
    app.command("export")(export)
