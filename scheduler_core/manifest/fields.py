"""One parser per manifest key: YAML value -> model field values, or a one-line FieldError.

Everything here is pure (no Django, no settings); checks against settings and code live in
`schema.check_runtime`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from scheduler_core.errors import InvalidInput
from scheduler_core.manifest.durations import DurationError, parse_duration
from scheduler_core.names import name_problem
from scheduler_core.tasks.schedules import validate_cron, zone

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
INT_MAX = 2**31 - 1  # PositiveIntegerField / IntegerField on every backend
SMALL_MAX = 32767  # PositiveSmallIntegerField
TYPES = ("cron", "repeatable", "once")
# Keys that only some task types take (mirrors models.TYPE_FIELDS, which needs Django).
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "once": ("at",),
    "repeatable": ("interval", "repeat", "at"),
    "cron": ("cron", "timezone"),
}


class FieldError(ValueError):
    """A bad value; `sub` extends the path (".max", "[2]") and `line` overrides the key's line."""

    def __init__(self, message: str, sub: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.sub, self.line = message, sub, line


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime | date):
        return "a timestamp"
    return type(value).__name__


def text(value: Any, *, max_len: int, what: str = "a string", one_line: bool = True) -> str:
    if not isinstance(value, str):
        raise FieldError(f"expected {what}, got {_kind(value)}")
    if "\x00" in value:
        raise FieldError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("must be valid Unicode (no lone surrogates)") from None
    if one_line and _CONTROL.search(value):
        raise FieldError("must not contain control characters")
    if len(value) > max_len:
        raise FieldError(f"longer than {max_len} characters")
    return value


def name(value: Any) -> str:
    out = text(value, max_len=200)
    problem = name_problem(out)
    if problem is not None:
        raise FieldError(problem)
    return out


def dotted(value: Any) -> str:
    out = text(value, max_len=1024, what="a dotted path")
    if not out:
        raise FieldError("must not be empty")
    return out


def json_data(value: Any, sub: str = "") -> None:
    """Raise FieldError unless `value` is plain JSON (what job arguments are stored as)."""
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FieldError("not JSON: numbers must be finite", sub)
        return
    if isinstance(value, str):
        try:
            text(value, max_len=10**7, one_line=False)
        except FieldError as exc:
            raise FieldError(exc.message, sub) from None
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            json_data(item, f"{sub}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise FieldError(f"not JSON: key {k!r} is not a string", sub)
            json_data(k, sub)
            json_data(v, f"{sub}.{k}")
        return
    hint = " (quote it to pass a string)" if isinstance(value, date | datetime) else ""
    raise FieldError(f"not JSON: {_kind(value)}{hint}", sub)


def args(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise FieldError(f"expected a list, got {_kind(value)}")
    json_data(value)
    return list(value)


def kwargs(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(f"expected a mapping, got {_kind(value)}")
    json_data(value)
    return dict(value)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError(f"expected true or false, got {_kind(value)}")
    return value


def task_type(value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in TYPES:
        shown = f'"{value}"' if isinstance(value, str) else _kind(value)
        raise FieldError(f"unknown type {shown} (expected cron, repeatable or once)")
    return value.lower()


def cron(value: Any) -> str:
    out = text(value, max_len=200, what="a cron expression string")
    try:
        validate_cron(out)
    except InvalidInput as exc:
        raise FieldError(str(exc)) from None
    return out


def timezone(value: Any) -> str:
    out = text(value, max_len=64, what="an IANA timezone name")
    try:
        zone(out)
    except InvalidInput as exc:
        raise FieldError(str(exc)) from None
    return out


def duration(value: Any, *, minimum: int) -> int:
    try:
        seconds = parse_duration(value)
    except DurationError as exc:
        raise FieldError(str(exc)) from None
    if seconds < minimum:
        raise FieldError(f"must be at least {minimum} second" + ("" if minimum == 1 else "s"))
    if seconds > INT_MAX:
        raise FieldError(f"too long (at most {INT_MAX} seconds)")
    return seconds


FOREVER = "forever"


def ttl(value: Any) -> int:
    """How long a result or failure is kept: a duration, or `forever` (stored as -1)."""
    if value == FOREVER:
        return -1
    try:
        return duration(value, minimum=0)
    except FieldError as exc:
        raise FieldError(f"{exc} or {FOREVER}") from None


def count(value: Any, *, minimum: int, maximum: int = INT_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"expected an integer, got {_kind(value)}")
    if value < minimum:
        raise FieldError(f"must be >= {minimum}, got {value}")
    if value > maximum:
        raise FieldError(f"must be <= {maximum}, got {value}")
    return value


def repeat(value: Any) -> int:
    try:
        return count(value, minimum=1)
    except FieldError as exc:
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise FieldError(f"repeat must be >= 1, got {value} (omit it to repeat forever)") from None
        raise exc


def instant(value: Any) -> datetime:
    """An aware time (YAML timestamp or ISO-8601 string) with a UTC offset, as UTC."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise FieldError(
                f'invalid time "{value}" (expected ISO-8601 like 2026-12-01T00:00:00Z)'
            ) from None
        value = parsed
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise FieldError(f"time {value.isoformat()} has no UTC offset (add Z or +01:00)")
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise FieldError(f"time {value.isoformat()} is out of range") from None
    if isinstance(value, date):
        raise FieldError(f"{value.isoformat()} is a date: give a time with a UTC offset ({value}T00:00:00Z)")
    raise FieldError(f"expected a time like 2026-12-01T00:00:00Z, got {_kind(value)}")


def choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in options:
            shown = f'"{value}"' if isinstance(value, str) else _kind(value)
            raise FieldError(f"invalid value {shown} (expected {' or '.join(options)})")
        return value.lower()

    return parse


def retry(value: Any) -> dict[str, Any]:
    """`{max: N, backoff: [durations] | duration}` -> retry_max / retry_backoff (seconds)."""
    if not isinstance(value, dict):
        raise FieldError(f"expected a mapping like {{max: 3, backoff: [10s, 1m]}}, got {_kind(value)}")
    lines: dict[Any, int] = getattr(value, "key_lines", {})
    for key in value:
        if key not in ("max", "backoff"):
            raise FieldError(f'unknown key "{key}" (expected max, backoff)', f".{key}", lines.get(key))
    if "max" not in value:
        raise FieldError("required key missing", ".max")
    try:
        retry_max = count(value["max"], minimum=0, maximum=SMALL_MAX)
    except FieldError as exc:
        raise FieldError(exc.message, ".max", lines.get("max")) from None
    raw = value.get("backoff", [])
    items = raw if isinstance(raw, list) else [raw]
    item_lines: list[int] = getattr(raw, "item_lines", [])
    backoff: list[int] = []
    for i, item in enumerate(items):
        sub = f".backoff[{i}]" if isinstance(raw, list) else ".backoff"
        try:
            backoff.append(duration(item, minimum=0))
        except FieldError as exc:
            line = item_lines[i] if i < len(item_lines) else lines.get("backoff")
            raise FieldError(exc.message, sub, line) from None
    return {"retry_max": retry_max, "retry_backoff": backoff}


# manifest key -> parser returning {model field: value}
PARSERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "name": lambda v: {"name": name(v)},
    "type": lambda v: {"type": task_type(v)},
    "callable": lambda v: {"callable": dotted(v)},
    "args": lambda v: {"args": args(v)},
    "kwargs": lambda v: {"kwargs": kwargs(v)},
    "queue": lambda v: {"queue": name(v)},
    "enabled": lambda v: {"enabled": boolean(v)},
    "cron": lambda v: {"cron": cron(v)},
    "timezone": lambda v: {"timezone": timezone(v)},
    "interval": lambda v: {"interval": duration(v, minimum=1)},
    "repeat": lambda v: {"repeat": repeat(v)},
    "at": lambda v: {"at": instant(v)},
    "timeout": lambda v: {"timeout": duration(v, minimum=1)},
    "result_ttl": lambda v: {"result_ttl": ttl(v)},
    "failure_ttl": lambda v: {"failure_ttl": ttl(v)},
    "at_front": lambda v: {"at_front": boolean(v)},
    "on_success": lambda v: {"on_success": dotted(v)},
    "on_failure": lambda v: {"on_failure": dotted(v)},
    "on_stopped": lambda v: {"on_stopped": dotted(v)},
    "description": lambda v: {"description": text(v, max_len=10_000, one_line=False)},
    "retry": retry,
    "misfire": lambda v: {"misfire": choice(("skip", "run_once"))(v)},
    "overlap": lambda v: {"overlap": choice(("allow", "skip"))(v)},
}
TASK_KEYS: tuple[str, ...] = tuple(PARSERS)
