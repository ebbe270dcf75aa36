"""YAML manifests: load and validate, plan against the DB, apply, export.

    manifest = load_manifest(["tasks.yaml"])          # ManifestInvalid (exit 3) lists every error
    plan = make_plan(manifest, prune=False)            # the DB as it is: created / configured / ...
    result = apply_manifest(manifest, prune=False)     # one transaction; tasks_changed after commit
    text = export_yaml(["billing"])                    # a manifest apply accepts

Modules: durations, loader (YAML with lines), fields (one parser per key), schema (documents ->
TaskSpecs), plan, apply, export. Only plan / apply / export touch the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from scheduler_core.manifest.problems import ManifestConflict, ManifestInvalid, Problem
from scheduler_core.manifest.schema import Manifest, SetSpec, TaskSpec

__all__ = [
    "Manifest",
    "ManifestConflict",
    "ManifestInvalid",
    "Problem",
    "SetSpec",
    "TaskSpec",
    "load_manifest",
]


def load_manifest(paths: Iterable[str], stdin: IO[str] | None = None, *, runtime: bool = True) -> Manifest:
    """Read and validate every source; raise ManifestInvalid with all problems, or return it.

    `runtime` also checks callables (they import, ALLOWED_CALLABLES) and queues (settings):
    it needs Django settings, never the database or the broker."""
    from scheduler_core.gcpause import gc_paused
    from scheduler_core.manifest.loader import parse, read_sources
    from scheduler_core.manifest.schema import check_runtime, validate_documents

    sources, problems = read_sources(paths, stdin)
    documents = []
    with gc_paused():
        for source in sources:
            loaded = parse(source)
            problems.extend(loaded.problems)
            documents.extend(loaded.documents)
        manifest = validate_documents(documents, problems)
        if runtime:
            check_runtime(manifest, problems)
    if problems:
        order = {s.name: i for i, s in enumerate(sources)}
        problems.sort(key=lambda p: (order.get(p.file, -1), p.line, p.path))
        raise ManifestInvalid(problems)
    return manifest
