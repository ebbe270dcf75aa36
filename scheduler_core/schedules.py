"""Next-run arithmetic for ONCE, REPEATABLE and CRON: pure functions, timezone-aware, DST-correct.

Cron is evaluated on the task's *wall clock*, then each wall time is mapped to one instant:
- a wall time that does not exist (spring-forward gap) runs once, at the first valid wall time
  after the gap (02:30 on a Berlin spring-forward day runs at 03:00 CEST);
- a wall time that occurs twice (fall-back) runs once, at its first occurrence.
Occurrences therefore strictly increase and never repeat an instant.
All inputs and outputs are aware datetimes; outputs are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from scheduler_core.errors import InvalidInput

_MAX_GAP = timedelta(hours=3)  # longer than any real DST gap


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {name!r}") from None


def validate_cron(expr: str) -> None:
    fields = expr.split()
    if len(fields) != 5 or not croniter.is_valid(expr):
        raise InvalidInput(f'invalid cron "{expr}" (expected 5 fields: minute hour day month weekday)')


def _exists(naive: datetime, tz: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


def wall_to_instant(naive: datetime, tz: ZoneInfo) -> datetime:
    """Map a local wall time to the one UTC instant it runs at (see module docstring)."""
    if not _exists(naive, tz):
        probe = naive.replace(second=0, microsecond=0)
        limit = naive + _MAX_GAP
        while probe < limit and not _exists(probe, tz):
            probe += timedelta(minutes=1)
        naive = probe
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def cron_occurrences(expr: str, tz_name: str, after: datetime) -> Iterator[datetime]:
    """Every occurrence strictly after `after`, in increasing order (an endless iterator)."""
    validate_cron(expr)
    tz = zone(tz_name)
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    # Start one gap-length early on the wall clock: a wall time just before `after` can map to an
    # instant after it (a gap), and fall-back hours replay wall times; the filter below sorts it out.
    start = after.astimezone(tz).replace(tzinfo=None) - _MAX_GAP
    it = croniter(expr, start)
    last = after
    while True:
        instant = wall_to_instant(it.get_next(datetime), tz)
        if instant > last:
            last = instant
            yield instant


def next_cron(expr: str, tz_name: str, after: datetime) -> datetime:
    return next(cron_occurrences(expr, tz_name, after))


def repeatable_at(anchor: datetime, interval: int, index: int) -> datetime:
    """The index-th run (0-based) of a REPEATABLE task: anchor + index * interval."""
    return (anchor + timedelta(seconds=interval * index)).astimezone(UTC)


def repeatable_index_after(anchor: datetime, interval: int, after: datetime) -> int:
    """The index of the first run strictly after `after`."""
    if after < anchor:
        return 0
    return int((after - anchor).total_seconds() // interval) + 1


def next_occurrences(
    kind: str,
    *,
    after: datetime,
    count: int = 1,
    cron: str | None = None,
    tz_name: str = "UTC",
    at: datetime | None = None,
    interval: int | None = None,
    repeat: int | None = None,
) -> list[datetime]:
    """Up to `count` occurrences strictly after `after` for a task of type `kind` (once/repeatable/cron).

    REPEATABLE: runs at `at + i*interval` for i in [0, repeat) (forever when repeat is None).
    """
    kind = kind.lower()
    if kind == "once":
        return [at.astimezone(UTC)] if at is not None and at > after else []
    if kind == "repeatable":
        if interval is None or interval <= 0 or at is None:
            raise InvalidInput("a repeatable schedule needs interval > 0 and an anchor time")
        first = repeatable_index_after(at, interval, after)
        last = first + count if repeat is None else min(first + count, repeat)
        return [repeatable_at(at, interval, i) for i in range(first, last)]
    if kind == "cron":
        if not cron:
            raise InvalidInput("a cron schedule needs a cron expression")
        out: list[datetime] = []
        for instant in cron_occurrences(cron, tz_name, after):
            out.append(instant)
            if len(out) >= count:
                break
        return out
    raise InvalidInput(f"unknown task type {kind!r}")
