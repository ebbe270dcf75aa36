"""Turn `taskctl jobs enqueue` arguments (strings) into a JobCall, with one-line errors (exit 3).

ARG and kwarg values are JSON when they parse as JSON (`1`, `true`, `[1,2]`, `{"a":1}`,
`"quoted"`), else plain strings. `--at` is ISO-8601 with an offset; `--in` a duration.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from scheduler_core.errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_value(text: str) -> Any:
    """JSON when `text` parses as JSON, else the string itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_kwargs(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--kwarg {item!r}: expected KEY=VALUE")
        out[key.strip()] = parse_value(value)
    return out


def parse_duration(text: str) -> float:
    """Seconds from a manifest duration (`90`, `15m`, `1h30m`) or one decimal number with a unit
    (`1.5h`, `0.5s`)."""
    from scheduler_core.manifest.durations import UNITS, DurationError
    from scheduler_core.manifest.durations import parse_duration as parse_compact

    try:
        return float(parse_compact(text.strip()))
    except DurationError:
        pass
    m = _DURATION.match(text)
    if not m:
        raise InvalidInput(f"duration {text!r}: expected seconds or a duration like 90s, 15m, 1h30m, 1.5h")
    return float(m.group(1)) * UNITS.get(m.group(2), 1)  # no unit: seconds


def parse_instant(text: str) -> datetime:
    """An aware datetime from ISO-8601 with an offset (`2026-12-24T18:00:00+01:00`, `...Z`)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"time {text!r}: expected ISO-8601, e.g. 2026-12-24T18:00:00+01:00") from None
    if value.tzinfo is None:
        raise InvalidInput(f"time {text!r} has no UTC offset (add Z or +HH:MM)")
    return value.astimezone(UTC)


def check_callable(path: str) -> str:
    """The dotted path, once it imports and is allowed (CallableError, exit 3, otherwise)."""
    from scheduler_core.callables import resolve
    from scheduler_core.conf import get_config

    resolve(path, get_config().allowed_callables)
    return path
