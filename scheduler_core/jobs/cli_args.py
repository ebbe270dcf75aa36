"""Turn `taskctl jobs enqueue` arguments (strings) into a JobCall, with one-line errors (exit 3).

ARG and kwarg values are JSON when they parse as JSON (`1`, `true`, `[1,2]`, `{"a":1}`,
`"quoted"`), else plain strings. Text that starts like JSON (`{`, `[`, `"`) but does not parse
is refused rather than silently taken as a string (`'{name: bad'`), as is a JSON object with a key
given twice; `-k` keys are Python identifiers, each given once. `--at` is ISO-8601 with an offset;
`--in` a duration of at most MAX_DELAY.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from scheduler_core.errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


MAX_DELAY = 100 * 365 * 86400  # seconds: `--in` past a century is a typo, not a plan
_JSON_START = ("{", "[", '"')


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} given twice")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_value(text: str, what: str = "argument") -> Any:
    """JSON when `text` parses as JSON, else the string itself; InvalidInput for text that
    starts like JSON and is not (quote it: '"{not json"' is the string)."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidInput(f"{what} {_short(text)}: nested too deeply") from None
    except ValueError as exc:
        if text.lstrip().startswith(_JSON_START):
            first = str(exc).splitlines()[0] if str(exc) else "not JSON"
            raise InvalidInput(
                f"{what} {_short(text)}: looks like JSON but is not ({first}); "
                "write valid JSON, or a JSON string in quotes for text"
            ) from None
        return text


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def parse_kwargs(items: Sequence[str]) -> dict[str, Any]:
    """`-k KEY=VALUE` options: KEY a Python identifier, given once; VALUE as parse_value."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"--kwarg {_short(item)}: expected KEY=VALUE")
        if not key.isidentifier():
            raise InvalidInput(
                f"--kwarg {_short(item)}: {_short(key)} is not a keyword name (a Python identifier)"
            )
        if key in out:
            raise InvalidInput(f"--kwarg {key}: given twice")
        out[key] = parse_value(value, f"--kwarg {key}")
    return out


def parse_duration(text: str) -> float:
    """Seconds from a manifest duration (`90`, `15m`, `1h30m`) or one decimal number with a unit
    (`1.5h`, `0.5s`)."""
    from scheduler_core.manifest.durations import UNITS, DurationError
    from scheduler_core.manifest.durations import parse_duration as parse_compact

    try:
        seconds = float(parse_compact(text.strip()))
    except DurationError:
        m = _DURATION.match(text)
        if not m:
            raise InvalidInput(
                f"duration {_short(text)}: expected seconds or a duration like 90s, 15m, 1h30m, 1.5h"
            ) from None
        seconds = float(m.group(1)) * UNITS.get(m.group(2), 1)  # no unit: seconds
    if not seconds <= MAX_DELAY:  # (inf too)
        raise InvalidInput(f"duration {_short(text)}: longer than 100 years")
    return seconds


def parse_instant(text: str) -> datetime:
    """An aware datetime from ISO-8601 with an offset (`2026-12-24T18:00:00+01:00`, `...Z`)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"time {_short(text)}: expected ISO-8601, e.g. 2026-12-24T18:00:00+01:00"
        ) from None
    if value.tzinfo is None:
        raise InvalidInput(f"time {_short(text)} has no UTC offset (add Z or +HH:MM)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past the last representable instant
        raise InvalidInput(f"time {_short(text)}: out of range") from None


def check_callable(path: str) -> str:
    """The dotted path, once it imports and is allowed (CallableError, exit 3, otherwise)."""
    from scheduler_core.callables import resolve
    from scheduler_core.conf import get_config

    resolve(path, get_config().allowed_callables)
    return path
