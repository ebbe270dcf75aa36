"""Output of plain data as table / plain / json / yaml: the only module that knows Rich.

Data goes to stdout; everything else to stderr. JSON and YAML documents carry `version` and
`kind`. `table` is the default on a TTY, `plain` (tab-separated, never truncated) when piped.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

import typer

from taskctl import bootstrap


class Format(StrEnum):
    table = "table"
    plain = "plain"
    json = "json"
    yaml = "yaml"


OutputOption = typer.Option(
    None, "-o", "--output", help="table | plain | json | yaml (default: table on a TTY, else plain)."
)


def resolve(fmt: Format | None) -> Format:
    if fmt is not None:
        return fmt
    return Format.table if sys.stdout.isatty() else Format.plain


def color_enabled() -> bool:
    return not (bootstrap.options.no_color or os.environ.get("NO_COLOR")) and sys.stdout.isatty()


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Off a terminal Rich assumes 80 columns and would fold a wide table's headers; a log or a
    # pipe has room, so give it 160 unless COLUMNS says otherwise.
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 160
    return Console(stderr=stderr, no_color=not color_enabled(), highlight=False, soft_wrap=False, width=width)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def document(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"version": 1, "kind": kind, **_jsonable(body)}


def dump_json(doc: Mapping[str, Any], compact: bool = False) -> str:
    if compact:
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(doc, indent=2, ensure_ascii=False)


def dump_yaml(doc: Mapping[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(cell(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(_jsonable(value), separators=(",", ":"))
    return str(value)


def plain_line(values: Iterable[Any]) -> str:
    return "\t".join(cell(v).replace("\t", " ").replace("\n", " ") for v in values)


def emit(
    fmt: Format | None,
    kind: str,
    key: str,
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    extra: Mapping[str, Any] | None = None,
    footer: Mapping[str, Any] | None = None,
) -> None:
    """Print records: `columns` is (field, header) pairs for table and plain output."""
    fmt = resolve(fmt)
    if fmt is Format.json:
        sys.stdout.write(dump_json(document(kind, {key: list(records), **(extra or {})})) + "\n")
    elif fmt is Format.yaml:
        sys.stdout.write(dump_yaml(document(kind, {key: list(records), **(extra or {})})))
    elif fmt is Format.plain:
        out = [plain_line(r.get(f) for f, _ in columns) for r in records]
        sys.stdout.write("".join(line + "\n" for line in out))
    else:
        console().print(table(records, columns, title=title, footer=footer))


def table(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    footer: Mapping[str, Any] | None = None,
) -> Any:
    from rich import box
    from rich.table import Table

    t = Table(title=title, box=box.SIMPLE_HEAD, show_footer=footer is not None, title_justify="left")
    for field, header in columns:
        t.add_column(header, footer=cell(footer.get(field, "")) if footer else "", overflow="fold")
    for r in records:
        t.add_row(*(cell(r.get(f)) for f, _ in columns))
    return t


def emit_object(fmt: Format | None, kind: str, obj: Mapping[str, Any]) -> None:
    """Print one record: key/value lines for table and plain, a document for json / yaml."""
    fmt = resolve(fmt)
    if fmt is Format.json:
        sys.stdout.write(dump_json(document(kind, obj)) + "\n")
    elif fmt is Format.yaml:
        sys.stdout.write(dump_yaml(document(kind, obj)))
    elif fmt is Format.plain:
        sys.stdout.write("".join(plain_line((k, v)) + "\n" for k, v in obj.items()))
    else:
        from rich.table import Table

        t = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
        t.add_column(style="bold")
        t.add_column(overflow="fold")
        for k, v in obj.items():
            text = v if isinstance(v, str) and "\n" in v else cell(v)
            t.add_row(k, text)
        console().print(t)


def info(message: str) -> None:
    """A progress or summary line: stderr, never mixed into data."""
    sys.stderr.write(message + "\n")


def warn(message: str) -> None:
    sys.stderr.write(f"taskctl: warning: {message}\n")


def align_right(t: Any, fields: Sequence[str], columns: Sequence[tuple[str, str]]) -> Any:
    """Right-align the named columns of a table made by `table` (numbers read better so)."""
    return tune(t, columns, right=fields)


def tune(
    t: Any, columns: Sequence[tuple[str, str]], *, right: Sequence[str] = (), nowrap: Sequence[str] = ()
) -> Any:
    """Adjust a table made by `table`: right-align `right` columns; keep `nowrap` columns on one
    line (the others wrap to fit the terminal)."""
    for i, (field, _) in enumerate(columns):
        if field in right:
            t.columns[i].justify = "right"
        if field in nowrap:
            t.columns[i].no_wrap = True
            t.columns[i].overflow = "ellipsis"
    return t


def live(frames: Iterable[Any]) -> None:
    """Show each renderable of `frames` in place on a TTY (Rich Live), until `frames` ends."""
    from rich.live import Live

    with Live(console=console(), auto_refresh=False, transient=False) as view:
        for frame in frames:
            view.update(frame, refresh=True)


def compact_json(value: Any) -> str:
    """`value` as one line of JSON (for args, kwargs and results in table and plain output)."""
    return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False)


TABLE_TEXT_LIMIT = 2000  # characters of one value shown in a table


def clip(text: str, limit: int = TABLE_TEXT_LIMIT) -> str:
    """`text` cut to `limit` characters with a note of its size, for tables only: a value of
    megabytes would flood the terminal (plain, json and yaml output keep it whole)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (cut: {len(text)} characters in all; -o json shows it whole)"
