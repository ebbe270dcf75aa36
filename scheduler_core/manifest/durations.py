"""Durations in manifests: an int of seconds, or a compact string like 90s, 15m, 2h, 1d, 1w, 1h30m."""

from __future__ import annotations

import re

from scheduler_core.tasks.schedules import format_duration

UNITS: dict[str, int] = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_WHOLE = re.compile(r"^(?:\d+[wdhms])+$")
_PART = re.compile(r"(\d+)([wdhms])")
HINT = "expected seconds or a duration like 90s, 15m, 2h, 1d, 1w"


class DurationError(ValueError):
    """A value that is not a duration; the message is one line."""


def parse_duration(value: object) -> int:
    """Seconds from an int (>= 0) or a string of number+unit parts ("1h30m"); else DurationError."""
    if isinstance(value, bool):
        raise DurationError(f"invalid duration {value!r} ({HINT})")
    if isinstance(value, int):
        if value < 0:
            raise DurationError(f"invalid duration {value} (must be >= 0)")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        if _WHOLE.match(text):
            return sum(int(n) * UNITS[u] for n, u in _PART.findall(text))
        raise DurationError(f'invalid duration "{value}" ({HINT})')
    raise DurationError(f"invalid duration {value!r} ({HINT})")


def format_compact(seconds: int) -> str:
    """The compact string for `seconds` ("15m", "1h30m"); 0 stays "0s"."""
    return format_duration(seconds) if seconds > 0 else "0s"
