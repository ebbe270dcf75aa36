"""Read manifest sources (files, directories, stdin) and parse YAML, keeping each node's line.

`LineLoader` is a (C)SafeLoader subclass: its mappings and sequences are `LineDict` / `LineList`,
which remember the line of every key and item. The constructors are registered on the subclass
only (PyYAML copies the table on first `add_constructor`), so PyYAML's own loaders are untouched.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

from scheduler_core.manifest.problems import Problem

STDIN = "<stdin>"
MAX_BYTES = 16 * 1024 * 1024  # a source larger than this is refused unread (5,000 tasks: ~1 MiB)
# Aliases may repeat what a document holds, within a budget: a billion-laughs document of a few
# hundred bytes expands to billions of nodes. Nodes beyond the written ones, at most:
ALIAS_BUDGET = 100_000
ALIAS_FACTOR = 4  # ... or this many times the written nodes, whichever is more


class LineDict(dict[Any, Any]):
    """A YAML mapping that knows its own line, each key's line, and keys given twice."""

    line: int
    key_lines: dict[Any, int]
    duplicates: list[tuple[Any, int]]


class LineList(list[Any]):
    """A YAML sequence that knows its own line and each item's line."""

    line: int
    item_lines: list[int]


try:  # libyaml's parser when PyYAML has it (30x faster on a 5,000-task manifest), else pure Python
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class LineLoader(_SafeLoader):
    """A safe loader whose mappings and sequences carry line numbers (1-based)."""


def _mapping(loader: LineLoader, node: MappingNode) -> LineDict:
    loader.flatten_mapping(node)  # YAML merge keys (<<)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines, out.duplicates = {}, []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise ConstructorError("while constructing a mapping", node.start_mark,
                                   "found an unhashable key", key_node.start_mark)  # fmt: skip
        line = key_node.start_mark.line + 1
        if key in out:
            out.duplicates.append((key, line))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _sequence(loader: LineLoader, node: SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


LineLoader.add_constructor("tag:yaml.org,2002:map", _mapping)
LineLoader.add_constructor("tag:yaml.org,2002:omap", _mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _sequence)


@dataclass
class Source:
    """The text of one manifest source, under the name errors use for it."""

    name: str
    text: str


@dataclass
class Document:
    """One YAML document of a source: its data (None for an empty document) and first line."""

    source: str
    data: Any
    line: int


@dataclass
class Loaded:
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_sources(paths: Iterable[str], stdin: IO[str] | None = None) -> tuple[list[Source], list[Problem]]:
    """Each `-f` argument: a file, `-` (stdin), or a directory (its *.yaml / *.yml, sorted)."""
    sources: list[Source] = []
    problems: list[Problem] = []
    for raw in paths:
        if raw == "-":
            stream = stdin if stdin is not None else sys.stdin
            text = stream.read(MAX_BYTES + 1)
            if len(text) > MAX_BYTES:
                problems.append(Problem(STDIN, 0, "", _too_large()))
            else:
                sources.append(Source(STDIN, text))
            continue
        path = Path(raw)
        try:
            is_dir = path.is_dir()
        except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL in it
            name = raw if len(raw) <= 80 else raw[:80] + "..."
            problems.append(Problem(name, 0, "", f"cannot read: {getattr(exc, 'strerror', None) or exc}"))
            continue
        if is_dir:
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                problems.append(Problem(raw, 0, "", "directory has no *.yaml or *.yml files"))
            files = found
        else:
            files = [path]
        for f in files:
            name = str(f)
            try:
                if f.stat().st_size > MAX_BYTES:
                    problems.append(Problem(name, 0, "", _too_large()))
                    continue
                # A device or pipe says size 0 (/dev/zero, <(...)): read no more than the limit.
                with f.open("rb") as stream:
                    data = stream.read(MAX_BYTES + 1)
                if len(data) > MAX_BYTES:
                    problems.append(Problem(name, 0, "", _too_large()))
                    continue
                sources.append(Source(name, data.decode("utf-8")))
            except FileNotFoundError:
                problems.append(Problem(name, 0, "", "no such file"))
            except UnicodeDecodeError as exc:
                line = data[: exc.start].count(b"\n") + 1
                problems.append(Problem(name, line, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
            except OSError as exc:
                problems.append(Problem(name, 0, "", f"cannot read: {exc.strerror or exc}"))
            except ValueError as exc:  # a NUL in the name (is_dir() says False rather than raise)
                problems.append(Problem(name[:80], 0, "", f"cannot read: {exc}"))
    return sources, problems


def _too_large() -> str:
    return f"larger than {MAX_BYTES // (1024 * 1024)} MiB: refused unread (split the manifest)"


def alias_problem(root: Node) -> tuple[int, str] | None:
    """(line, message) when aliases would expand `root` past the budget, else None.

    Counts the expanded size of every node once (memoised on the node: an alias is the same node
    object), so a bomb is measured without being expanded. Iterative: no recursion limit."""
    size: dict[int, int] = {}
    written = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in size and not done:
            continue  # an alias of a node already measured
        children = _children(node)
        if not done:
            size[key] = -1  # in progress (a recursive alias is left to the constructor)
            written += 1
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
            continue
        total = 1 + sum(max(size.get(id(c), 0), 0) for c in children)
        size[key] = total
        if total - written > max(ALIAS_BUDGET, ALIAS_FACTOR * written):
            line = node.start_mark.line + 1
            return line, (
                f"aliases expand this node to over {total:,} nodes (budget: {ALIAS_BUDGET:,} beyond "
                "the written ones): refused (a YAML alias bomb?)"
            )
    return None


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _yaml_problem(name: str, text: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Problem(name, line, "", f"invalid YAML: unacceptable character #x{char:04x}")
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    text = f"{context}: {what}" if context and context not in what else what
    return Problem(name, line, "", f"invalid YAML: {text}")


def parse(source: Source) -> Loaded:
    """The documents of one source; a YAML error is one problem (the file is then skipped)."""
    out = Loaded()
    loader: LineLoader | None = None
    try:
        loader = LineLoader(source.text)
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node() said there is one
            bomb = alias_problem(node)
            if bomb is not None:
                out.documents.clear()
                out.problems.append(Problem(source.name, bomb[0], "", bomb[1]))
                return out
            data = loader.construct_document(node)
            if data is not None:  # an empty document (a stray `---`) says nothing
                out.documents.append(Document(source.name, data, node.start_mark.line + 1))
    except yaml.YAMLError as exc:
        out.documents.clear()
        out.problems.append(_yaml_problem(source.name, source.text, exc))
        return out
    except RecursionError:
        out.documents.clear()
        out.problems.append(Problem(source.name, 1, "", "invalid YAML: nested too deeply"))
        return out
    finally:
        if loader is not None:
            loader.dispose()
    if not out.documents:
        out.problems.append(Problem(source.name, 1, "", "the file is empty (expected a manifest)"))
    return out
