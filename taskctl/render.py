"""Output of plain data as table / plain / json / yaml: the only module that knows Rich.

Data goes to stdout; everything else to stderr. JSON and YAML documents carry `version` and
`kind`. `table` is the default on a TTY, `plain` (tab-separated, never truncated) when piped.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Collection, Iterable, Mapping, Sequence
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
    keep: Sequence[str] = (),
    drop: Sequence[str] = (),
    right: Sequence[str] = (),
    nowrap: Sequence[str] = (),
) -> None:
    """Print records: `columns` is (field, header) pairs for table and plain output.

    For the table: `keep` columns (ids, names) never wrap and are never dropped; when the table
    is wider than the terminal, `drop` columns go first, in that order; `right` are numbers and
    `nowrap` (times) never wrap either."""
    fmt = resolve(fmt)
    if fmt is Format.json:
        sys.stdout.write(dump_json(document(kind, {key: list(records), **(extra or {})})) + "\n")
    elif fmt is Format.yaml:
        sys.stdout.write(dump_yaml(document(kind, {key: list(records), **(extra or {})})))
    elif fmt is Format.plain:
        out = [plain_line(r.get(f) for f, _ in columns) for r in records]
        sys.stdout.write("".join(line + "\n" for line in out))
    else:
        t = table(
            records, columns, title=title, footer=footer, keep=keep, drop=drop, right=right, nowrap=nowrap
        )
        console().print(t)


# Between two columns: one space of padding (collapsed) and the separator; no edges.
_GAP = 2
# A wrapping column is never narrower than its longest word, up to this (longer words fold).
_LONGEST_UNBROKEN = 24
# Columns are dropped before a wrapping column gets narrower than this (or than its text).
_COMFORTABLE = 30


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def layout(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    *,
    fixed: Collection[int] = (),
    keep: Collection[int] = (),
    drop: Sequence[int] = (),
    width: int,
) -> dict[int, int]:
    """Which columns to show in `width` characters, and how wide: {index: width}, in order.

    `fixed` columns never wrap (ids, names, numbers, times); the others wrap at spaces. No column
    is narrower than its header's longest word, so headers never break mid-word. When even the
    layout that leaves wrapping text a comfortable width is too wide, `drop` columns go, in that
    order; `keep` columns never go."""

    def cells(i: int) -> list[str]:
        return [line for r in rows for line in r[i].splitlines() or [""]]

    def widest(i: int) -> int:
        return max((len(c) for c in cells(i)), default=0)

    def natural(i: int) -> int:
        return max(len(headers[i]), widest(i))

    def floor(i: int) -> int:
        head = _longest_word(headers[i])
        if i in fixed or i in keep:
            return max(head, widest(i))
        return max(head, min(_LONGEST_UNBROKEN, max((_longest_word(c) for c in cells(i)), default=0)))

    shown = list(range(len(headers)))

    def total(ws: Mapping[int, int]) -> int:
        return sum(ws[i] for i in shown) + _GAP * (len(shown) - 1)

    floors = {i: floor(i) for i in shown}
    comfortable = {
        i: floors[i] if i in fixed or i in keep else max(floors[i], min(natural(i), _COMFORTABLE))
        for i in shown
    }
    for i in drop:
        if total(comfortable) <= width:
            break
        if i in shown and i not in keep:
            shown.remove(i)
    widths = {i: natural(i) for i in shown}
    # Narrow the wrapping columns first, always the widest by one; then multi-word headers of
    # fixed columns.
    for group in ([i for i in shown if i not in fixed and i not in keep], shown):
        while total(widths) > width:
            narrowable = [i for i in group if widths[i] > floors[i]]
            if not narrowable:
                break
            widths[max(narrowable, key=lambda j: widths[j])] -= 1
    return widths


def table(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    footer: Mapping[str, Any] | None = None,
    keep: Sequence[str] = (),
    drop: Sequence[str] = (),
    right: Sequence[str] = (),
    nowrap: Sequence[str] = (),
    width: int | None = None,
) -> Any:
    """A Rich table of `records` fitted to `width` (the terminal's by default): see `layout`.
    `keep` columns are fixed and never dropped; `right` (numbers) and `nowrap` are fixed too."""
    from rich import box
    from rich.table import Table

    fields = [f for f, _ in columns]
    rows = [[cell(r.get(f)) for f in fields] for r in records]
    foot = [cell(footer.get(f, "")) for f in fields] if footer else None
    index = {f: i for i, f in enumerate(fields)}
    widths = layout(
        rows + ([foot] if foot else []),
        [h for _, h in columns],
        fixed={index[f] for f in (*keep, *right, *nowrap) if f in index},
        keep={index[f] for f in keep if f in index},
        drop=[index[f] for f in drop if f in index],
        width=width if width is not None else console().width,
    )
    t = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        show_footer=foot is not None,
        title_justify="left",
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for i, w in widths.items():
        field, header = columns[i]
        fixed = field in keep or field in right or field in nowrap
        if fixed and len(header) > w:
            header = "\n".join(textwrap.wrap(header, w))  # the cells stay whole; the header wraps
        t.add_column(
            header,
            footer=foot[i] if foot else "",
            width=w,
            no_wrap=fixed,
            overflow="ellipsis" if fixed else "fold",
            justify="right" if field in right else "left",
        )
    for r in rows:
        t.add_row(*(r[i] for i in widths))
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
