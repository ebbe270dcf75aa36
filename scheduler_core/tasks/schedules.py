"""Next-run arithmetic for ONCE, REPEATABLE and CRON: pure functions, timezone-aware, DST-correct.

Cron is evaluated on the task's *wall clock*, then each wall time is mapped to one instant:
- a wall time that does not exist (spring-forward gap) runs once, at the first valid wall time
  after the gap (02:30 on a Berlin spring-forward day runs at 03:00 CEST);
- a wall time that occurs twice (fall-back) runs once, at its first occurrence.
Occurrences therefore strictly increase and never repeat an instant.
REPEATABLE runs at ``anchor + i * interval`` (exact elapsed seconds, not wall-clock) for
``i < repeat``, so ``repeat: N`` is exactly N runs, the anchor being the first.
All inputs are aware datetimes; outputs are in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from scheduler_core.errors import InvalidInput

_MAX_GAP = timedelta(hours=3)  # longer than any real DST gap
_PROBE_START = datetime(2000, 1, 1)  # a fixed start for "does this cron ever match?"


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or InvalidInput."""
    if not name or not isinstance(name, str):
        raise InvalidInput(f"unknown timezone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {name!r} (expected an IANA name like Europe/Berlin)") from None


_DEGENERATE_RANGE = re.compile(r"^(\w+)-(\w+)(/\d+)?$")


def _normalize_term(term: str) -> str:
    m = _DEGENERATE_RANGE.match(term)
    if m and m.group(1).lower() == m.group(2).lower():
        return m.group(1)
    return term


@lru_cache(maxsize=1024)
def normalize_cron(expr: str) -> str:
    """Rewrite one-value ranges ("2-2", "1-1/2", "mon-mon") to the value itself.

    croniter 7 expands such a range to the whole field ("0 2-2 * * *" would run every hour, and
    "1-1,3" in a field makes the whole field "*"); plain values mean the same and parse correctly.
    """
    return " ".join(",".join(_normalize_term(t) for t in field.split(",")) for field in expr.split())


def day_or(expr: str) -> bool:
    """Vixie cron's rule: day-of-month and weekday are OR-ed only when neither field starts with
    "*" ("0 0 1,15 * 1" = the 1st, the 15th and every Monday; "0 0 */2 * 1" = odd-day Mondays).
    croniter decides by the expanded field instead, which differs for "*/N"; we pass the rule."""
    fields = expr.split()
    return not (fields[2].startswith("*") or fields[4].startswith("*"))


@lru_cache(maxsize=1024)
def prepare_cron(expr: str) -> tuple[str, bool]:
    """The (expression, day_or) pair to hand croniter, with its quirks worked around.

    When the day fields are OR-ed and one of them covers every value ("1-31", "0,*/1"), every day
    matches; croniter would instead ignore that field, so both become "*".
    """
    normalized, ors = normalize_cron(expr), day_or(expr)
    if ors:
        expanded = croniter(normalized).expanded
        if expanded[2] == ["*"] or expanded[4] == ["*"]:
            f = normalized.split()
            normalized, ors = " ".join([f[0], f[1], "*", f[3], "*"]), False
    return normalized, ors


@lru_cache(maxsize=1024)
def validate_cron(expr: str) -> None:
    """Raise InvalidInput unless `expr` is a 5-field cron expression that matches some date."""
    if not isinstance(expr, str) or len(expr.split()) != 5 or not croniter.is_valid(expr):
        raise InvalidInput(f'invalid cron "{expr}" (expected 5 fields: minute hour day month weekday)')
    try:
        prepared, ors = prepare_cron(expr)
        croniter(prepared, _PROBE_START, day_or=ors).get_next(datetime)
    except CroniterBadDateError:
        raise InvalidInput(f'invalid cron "{expr}": it never matches a date') from None


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


def _aware_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def cron_occurrences(expr: str, tz_name: str, after: datetime) -> Iterator[datetime]:
    """Every occurrence strictly after `after`, in increasing order (endless unless the cron
    stops matching, e.g. a 29 February cron past the last leap year croniter searches)."""
    validate_cron(expr)
    tz = zone(tz_name)
    last = _aware_utc(after, "after")
    # Start one gap-length early on the wall clock: a wall time just before `after` can map to an
    # instant after it (a gap), and fall-back hours replay wall times; the filter below sorts it out.
    start = last.astimezone(tz).replace(tzinfo=None) - _MAX_GAP
    prepared, ors = prepare_cron(expr)
    it = croniter(prepared, start, day_or=ors)
    while True:
        try:
            wall = it.get_next(datetime)
        except CroniterBadDateError:
            return
        instant = wall_to_instant(wall, tz)
        if instant > last:
            last = instant
            yield instant


def next_cron(expr: str, tz_name: str, after: datetime) -> datetime:
    return next(cron_occurrences(expr, tz_name, after))


def repeatable_at(anchor: datetime, interval: int, index: int) -> datetime:
    """The index-th run (0-based) of a REPEATABLE task: anchor + index * interval, in UTC.

    The sum is taken in UTC so that an anchor carrying a zone with DST still advances by exact
    elapsed seconds (aware + timedelta in a ZoneInfo would add wall-clock time)."""
    return _aware_utc(anchor, "anchor") + timedelta(seconds=interval * index)


def repeatable_index_after(anchor: datetime, interval: int, after: datetime) -> int:
    """The index of the first run strictly after `after` (integer arithmetic, no float rounding)."""
    anchor, after = _aware_utc(anchor, "anchor"), _aware_utc(after, "after")
    if after < anchor:
        return 0
    return (after - anchor) // timedelta(seconds=interval) + 1


def occurrences_after(
    kind: str,
    *,
    after: datetime,
    cron: str | None = None,
    tz_name: str = "UTC",
    at: datetime | None = None,
    interval: int | None = None,
    repeat: int | None = None,
) -> Iterator[datetime]:
    """The one schedule dispatcher: the occurrences strictly after `after` of a task of type `kind`
    (once / repeatable / cron), lazily, in UTC. An incomplete schedule (a repeatable without
    interval or anchor, a cron without expression) has none; `next_occurrences` refuses it."""
    kind = kind.lower()
    after = _aware_utc(after, "after")
    if kind == "cron":
        cur: datetime | None = after
        while cron and cur is not None:
            cur = cron_next(cron, tz_name, cur)
            if cur is not None:
                yield cur
    elif kind == "repeatable":
        if at is None or not interval:
            return
        i = repeatable_index_after(at, interval, after)
        while repeat is None or i < repeat:
            yield repeatable_at(at, interval, i)
            i += 1
    elif kind == "once" and at is not None and at > after:
        yield _aware_utc(at, "at")


@lru_cache(maxsize=8192)
def cron_next(expr: str, tz_name: str, after: datetime) -> datetime | None:
    """The first occurrence of cron `expr` in `tz_name` strictly after `after` (None: never).

    Same answer as cron_occurrences, faster: that one starts its wall-clock walk three hours early
    so that DST gaps and folds behind `after` are seen; when the zone's UTC offset did not change
    in those three hours there is nothing to see, and the walk starts at `after`.
    Cached: tasks that share a cron and a next run (every "0 3 * * *" task) share the work."""
    tz = zone(tz_name)
    last = after.astimezone(UTC)
    if (last - _MAX_GAP).astimezone(tz).utcoffset() != last.astimezone(tz).utcoffset():
        return next(cron_occurrences(expr, tz_name, last), None)
    validate_cron(expr)
    prepared, ors = prepare_cron(expr)
    it = croniter(prepared, last.astimezone(tz).replace(tzinfo=None), day_or=ors)
    while True:
        try:
            wall = it.get_next(datetime)
        except CroniterBadDateError:
            return None
        instant = wall_to_instant(wall, tz)
        if instant > last:
            return instant


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
    """Up to `count` occurrences strictly after `after` for a task of type `kind` (once/repeatable/cron),
    refusing (InvalidInput) a schedule that is incomplete or of an unknown type.

    REPEATABLE: runs at `at + i*interval` for i in [0, repeat) (forever when repeat is None).
    """
    kind = kind.lower()
    if kind == "repeatable":
        if interval is None or interval <= 0 or at is None:
            raise InvalidInput("a repeatable schedule needs interval > 0 and an anchor time")
        if repeat is not None and repeat < 0:
            raise InvalidInput("repeat must be >= 1 (omit it to repeat forever)")
    elif kind == "cron":
        if not cron:
            raise InvalidInput("a cron schedule needs a cron expression")
    elif kind != "once":
        raise InvalidInput(f"unknown task type {kind!r} (once, repeatable, cron)")
    if count <= 0:
        return []
    occurrences = occurrences_after(kind, after=after, cron=cron, tz_name=tz_name, at=at, interval=interval,
                                    repeat=repeat)  # fmt: skip
    return list(islice(occurrences, count))


# --- human-readable descriptions (admin, `taskctl tasks list`) ---

_UNITS = (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(seconds: int) -> str:
    """Compact duration: 90 -> "1m30s", 900 -> "15m", 86400 -> "1d", 0 -> "0s"."""
    if seconds <= 0:
        return f"{seconds}s"
    parts: list[str] = []
    rest = seconds
    for unit, size in _UNITS:
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


def _format_instant(value: datetime) -> str:
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S UTC" if utc.second else "%Y-%m-%d %H:%M UTC")


def describe_schedule(
    kind: str,
    *,
    cron: str | None = None,
    tz_name: str | None = None,
    interval: int | None = None,
    repeat: int | None = None,
    at: datetime | None = None,
) -> str:
    """One line in words: "cron 0 3 * * * (Europe/Berlin)", "every 15m, 10 runs",
    "every 1h, from 2026-12-01 00:00 UTC", "once at 2026-12-24 17:00 UTC". Never raises."""
    kind = (kind or "").lower()
    if kind == "cron":
        return f"cron {cron or '?'} ({tz_name or 'UTC'})"
    if kind == "repeatable":
        text = f"every {format_duration(interval)}" if interval else "every ? (no interval)"
        if repeat is not None:
            text += f", {repeat} run" + ("" if repeat == 1 else "s")
        if at is not None and at.tzinfo is not None:
            text += f", from {_format_instant(at)}"
        return text
    if kind == "once":
        if at is None or at.tzinfo is None:
            return "once (no time set)"
        return f"once at {_format_instant(at)}"
    return f"unknown type {kind!r}"
