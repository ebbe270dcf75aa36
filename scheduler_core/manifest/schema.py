"""Validate manifest documents into TaskSpecs; every problem is collected, none stops the rest.

Rules beyond the per-key parsers in `fields`: the document shape (version, set, defaults, tasks),
unknown and duplicate keys, required keys, keys that belong to another task type, and task
names unique across every file. `defaults` applies to every task of the document; a default
that only some types take (e.g. `timezone`) applies only to the tasks of those types.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scheduler_core.manifest import fields as F
from scheduler_core.manifest.loader import Document
from scheduler_core.manifest.problems import Problem

ROOT_KEYS = ("version", "set", "defaults", "tasks")
REQUIRED = ("name", "type", "callable")
REQUIRED_BY_TYPE = {"cron": "cron", "repeatable": "interval", "once": "at"}
# Model defaults of every spec field: what an omitted key means.
FIELD_DEFAULTS: dict[str, Any] = {
    "args": [], "kwargs": {}, "queue": "default", "enabled": True, "cron": "", "timezone": "",
    "interval": None, "repeat": None, "at": None, "timeout": None, "result_ttl": None, "failure_ttl": None,
    "at_front": False, "on_success": "", "on_failure": "", "on_stopped": "", "retry_max": 0,
    "retry_backoff": [], "misfire": "run_once", "overlap": "allow", "description": "",
}  # fmt: skip
RUNTIME_FIELDS = ("callable", "on_success", "on_failure", "on_stopped", "queue")


@dataclass
class Origin:
    """Where a value was written: for runtime errors on a value that came from `defaults`."""

    source: str
    line: int
    path: str


@dataclass
class TaskSpec:
    name: str
    set_name: str
    fields: dict[str, Any]  # type, callable and every key of FIELD_DEFAULTS, as model values
    source: str
    line: int
    path: str  # "tasks[3]"
    origins: dict[str, Origin] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}: {self.path}"

    def spec(self) -> dict[str, Any]:
        """The spec in Task.spec() form (times as ISO-8601 UTC with Z)."""
        out: dict[str, Any] = {}
        for k, v in self.fields.items():
            out[k] = v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v
        return out


@dataclass
class SetSpec:
    name: str
    tasks: list[TaskSpec] = field(default_factory=list)


@dataclass
class Manifest:
    sets: dict[str, SetSpec] = field(default_factory=dict)
    checked: list[TaskSpec] = field(default_factory=list)  # every task parsed, valid or not

    @property
    def tasks(self) -> list[TaskSpec]:
        return [t for s in self.sets.values() for t in s.tasks]


class _Doc:
    """Validation of one document: problems go to the shared list."""

    def __init__(self, doc: Document, problems: list[Problem], seen: dict[str, tuple[str, int]]) -> None:
        self.doc, self.src, self.problems, self.seen = doc, doc.source, problems, seen

    def names(self, name: str, line: int, path: str) -> None:
        """Task names are unique across every document and file."""
        first = self.seen.setdefault(name, (self.src, line))
        if first != (self.src, line):
            self.err(line, f"{path}.name", f'duplicate task name "{name}" (first at {first[0]}:{first[1]})')

    def err(self, line: int, path: str, message: str) -> None:
        self.problems.append(Problem(self.src, line, path, message))

    def field_err(self, exc: F.FieldError, line: int, path: str) -> None:
        self.err(exc.line or line, path + exc.sub, exc.message)

    def duplicates(self, value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, line in getattr(value, "duplicates", []):
                self.err(line, _join(path, key), "key given twice in one mapping")
            for k, v in value.items():
                self.duplicates(v, _join(path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.duplicates(v, f"{path}[{i}]")

    def run(self, manifest: Manifest) -> list[TaskSpec]:
        data, line = self.doc.data, self.doc.line
        if data is None:
            self.err(line, "", "the document is empty (expected a manifest)")
            return []
        if not isinstance(data, dict):
            self.err(line, "", f"expected a mapping with version, set and tasks, got {F._kind(data)}")
            return []
        self.duplicates(data, "")
        lines = _lines(data)
        for key in data:
            if key not in ROOT_KEYS:
                self.err(lines.get(key, line), _join("", key), _unknown(key, ROOT_KEYS))
        for key in ("version", "set", "tasks"):
            if key not in data:
                self.err(line, key, "required key missing")
        if "version" in data and (isinstance(data["version"], bool) or data["version"] != 1):
            self.err(lines["version"], "version", f"unsupported version {data['version']!r} (expected 1)")
        set_name = None
        if "set" in data:
            try:
                set_name = F.name(data["set"])
            except F.FieldError as exc:
                self.field_err(exc, lines["set"], "set")
        defaults = self.defaults(data.get("defaults"), lines.get("defaults", line))
        raw_tasks = data.get("tasks")
        if "tasks" in data and not isinstance(raw_tasks, list):
            self.err(lines["tasks"], "tasks", f"expected a list of tasks, got {F._kind(raw_tasks)}")
            raw_tasks = None
        specs: list[TaskSpec] = []
        item_lines: list[int] = getattr(raw_tasks, "item_lines", [])
        for i, raw in enumerate(raw_tasks or []):
            t_line = item_lines[i] if i < len(item_lines) else lines.get("tasks", line)
            spec = self.task(raw, f"tasks[{i}]", t_line, defaults, set_name or "", manifest)
            if spec is not None:
                specs.append(spec)
        if set_name is not None and "tasks" in data:
            manifest.sets.setdefault(set_name, SetSpec(set_name))
            if raw_tasks is not None:
                manifest.sets[set_name].tasks.extend(specs)
        return specs

    def defaults(self, raw: Any, line: int) -> dict[str, tuple[dict[str, Any], Origin]]:
        out: dict[str, tuple[dict[str, Any], Origin]] = {}
        if raw is None:
            return out
        if not isinstance(raw, dict):
            self.err(line, "defaults", f"expected a mapping, got {F._kind(raw)}")
            return out
        lines = _lines(raw)
        allowed = tuple(k for k in F.TASK_KEYS if k != "name")
        for key, value in raw.items():
            path, k_line = _join("defaults", key), lines.get(key, line)
            if key not in allowed:
                self.err(k_line, path, _unknown(key, allowed))
                continue
            try:
                out[key] = (F.PARSERS[key](value), Origin(self.src, k_line, path))
            except F.FieldError as exc:
                self.field_err(exc, k_line, path)
        return out

    def task(self, raw: Any, path: str, line: int, defaults: dict[str, tuple[dict[str, Any], Origin]],
             set_name: str, manifest: Manifest) -> TaskSpec | None:  # fmt: skip
        if not isinstance(raw, dict):
            self.err(line, path, f"expected a task mapping, got {F._kind(raw)}")
            return None
        lines = _lines(raw)
        own: dict[str, dict[str, Any]] = {}
        ok = True
        for key, value in raw.items():
            k_path, k_line = _join(path, key), lines.get(key, line)
            if key not in F.TASK_KEYS:
                self.err(k_line, k_path, _unknown(key, F.TASK_KEYS))
                ok = False
                continue
            try:
                own[key] = F.PARSERS[key](value)
            except F.FieldError as exc:
                self.field_err(exc, k_line, k_path)
                ok = False
        for key in REQUIRED:
            if key not in raw and (key == "name" or key not in defaults):
                self.err(line, _join(path, key), "required key missing")
                ok = False
        if "name" in own:
            self.names(own["name"]["name"], lines.get("name", line), path)
        kind = own["type"]["type"] if "type" in own else None
        if kind is None and "type" not in raw and "type" in defaults:
            kind = defaults["type"][0]["type"]
        if kind is None:
            return None
        for key in raw:
            for other, keys in F.TYPE_KEYS.items():
                if key in keys and key not in F.TYPE_KEYS[kind] and other != kind:
                    self.err(lines.get(key, line), _join(path, key), f"{key} does not apply to a {kind} task")
                    ok = False
                    break
        values: dict[str, Any] = {"type": kind, **FIELD_DEFAULTS}
        origins: dict[str, Origin] = {}
        for key, (parsed, origin) in defaults.items():
            if key in raw or (key in _TYPED and key not in F.TYPE_KEYS[kind]):
                continue
            values.update(parsed)
            for f in parsed:
                origins[f] = origin
        for key, parsed in own.items():
            values.update(parsed)
            for f in parsed:
                origins[f] = Origin(self.src, lines.get(key, line), _join(path, key))
        need = REQUIRED_BY_TYPE[kind]
        if need not in raw and need not in defaults:
            self.err(line, _join(path, need), f"required for a {kind} task")
            ok = False
        name = values.pop("name", "")
        spec = TaskSpec(name, set_name, values, self.src, line, path, origins)
        manifest.checked.append(spec)
        return spec if ok and name else None


_TYPED = {k for keys in F.TYPE_KEYS.values() for k in keys}


def _lines(value: Any) -> dict[Any, int]:
    return dict(getattr(value, "key_lines", {}))


def _join(path: str, key: Any) -> str:
    k = key if isinstance(key, str) else repr(key)
    return f"{path}.{k}" if path else k


def _unknown(key: Any, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1) if isinstance(key, str) else []
    hint = f'; did you mean "{close[0]}"?' if close else f" (expected one of: {', '.join(allowed)})"
    return f"unknown key {key!r}{hint}" if not isinstance(key, str) else f'unknown key "{key}"{hint}'


def validate_documents(documents: list[Document], problems: list[Problem]) -> Manifest:
    """Shape and values of every document; task names unique across all of them."""
    manifest = Manifest()
    seen: dict[str, tuple[str, int]] = {}
    for doc in documents:
        _Doc(doc, problems, seen).run(manifest)
    return manifest


def check_runtime(manifest: Manifest, problems: list[Problem]) -> None:
    """Against settings and code: callables import and are allowed, queues are configured."""
    from scheduler_core.callables import resolve
    from scheduler_core.conf import get_config
    from scheduler_core.errors import TaskctlError

    config = get_config()
    reported: set[tuple[str, int, str]] = set()
    for spec in manifest.checked:
        for f in RUNTIME_FIELDS:
            value = spec.fields.get(f)
            if not value:
                continue
            try:
                if f == "queue":
                    config.queue(value)
                else:
                    resolve(value, config.allowed_callables)
            except TaskctlError as exc:
                origin = spec.origins.get(f, Origin(spec.source, spec.line, f"{spec.path}.{f}"))
                key = (origin.source, origin.line, origin.path)
                if key not in reported:
                    reported.add(key)
                    problems.append(Problem(origin.source, origin.line, origin.path, str(exc)))
