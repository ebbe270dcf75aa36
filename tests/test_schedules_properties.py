"""Hypothesis properties of cron schedules across DST rules (30-minute, 1-hour, none).

The oracle is independent of scheduler_core.tasks.schedules: cron fields are generated together with the
set of values they denote, a minute matches when every field holds (day-of-month and weekday are
OR-ed only when neither field starts with "*", as in Vixie cron), and the expected occurrences come
from a brute-force scan of UTC minutes:
- a minute whose local wall time matches and is that wall time's first occurrence (fold=0) runs;
- the first minute after a spring-forward gap runs if any skipped wall time matched.
The oracle itself is cross-checked against croniter.match on the walls it judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from scheduler_core.errors import InvalidInput
from scheduler_core.tasks.schedules import (
    cron_occurrences,
    next_occurrences,
    normalize_cron,
    prepare_cron,
    validate_cron,
)

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")
MINUTE = timedelta(minutes=1)
PROPS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- cron fields as (text, values) ---------------------------------------------------------------


@st.composite
def _term(draw: st.DrawFn, lo: int, hi: int) -> tuple[str, frozenset[int]]:
    kind = draw(st.sampled_from(["value", "range", "range_step", "star_step"]))
    if kind == "value":
        v = draw(st.integers(lo, hi))
        return str(v), frozenset({v})
    if kind == "star_step":
        step = draw(st.integers(1, max(1, (hi - lo) // 2 + 1)))
        return f"*/{step}", frozenset(range(lo, hi + 1, step))
    a = draw(st.integers(lo, hi))
    b = draw(st.integers(a, hi))
    if kind == "range":
        return f"{a}-{b}", frozenset(range(a, b + 1))
    step = draw(st.integers(1, max(1, b - a)))
    return f"{a}-{b}/{step}", frozenset(range(a, b + 1, step))


@st.composite
def cron_field(draw: st.DrawFn, lo: int, hi: int) -> tuple[str, frozenset[int]]:
    shape = draw(st.sampled_from(["star", "term", "term", "list"]))
    if shape == "star":
        return "*", frozenset(range(lo, hi + 1))
    if shape == "term":
        return draw(_term(lo, hi))
    terms = draw(st.lists(_term(lo, hi), min_size=2, max_size=3))
    values: frozenset[int] = frozenset().union(*(t[1] for t in terms))
    return ",".join(t[0] for t in terms), values


# Hours around the usual transition times (01:00-03:00) are where DST bugs live: favour them.
HOURS = st.one_of(
    cron_field(0, 23),
    st.sampled_from([("2", frozenset({2})), ("1-3", frozenset({1, 2, 3})), ("1,2", frozenset({1, 2}))]),
)


@dataclass(frozen=True)
class Cron:
    expr: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # cron numbering: 0 = Sunday
    day_or: bool

    def match(self, wall: datetime) -> bool:
        if wall.minute not in self.minutes or wall.hour not in self.hours or wall.month not in self.months:
            return False
        dom = wall.day in self.days
        dow = (wall.isoweekday() % 7) in self.weekdays
        return (dom or dow) if self.day_or else (dom and dow)


@st.composite
def crons(draw: st.DrawFn) -> Cron:
    m, h = draw(cron_field(0, 59)), draw(HOURS)
    d, mo, w = draw(cron_field(1, 31)), draw(cron_field(1, 12)), draw(cron_field(0, 6))
    expr = " ".join(f[0] for f in (m, h, d, mo, w))
    try:
        validate_cron(expr)
    except InvalidInput:
        assume(False)  # e.g. "0 0 31 2 *": never matches; covered by a table test
    return Cron(
        expr, m[1], h[1], d[1], mo[1], w[1], day_or=not (d[0].startswith("*") or w[0].startswith("*"))
    )


# --- start instants: uniform in 2026-2028, or near a DST transition ------------------------------


@cache
def transitions(tz_name: str) -> tuple[datetime, ...]:
    """UTC instants in 2026-2028 at which the zone's offset changes (found by scanning)."""
    tz, out = ZoneInfo(tz_name), []
    t, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
    step = timedelta(hours=6)
    while t < end:
        if t.astimezone(tz).utcoffset() != (t + step).astimezone(tz).utcoffset():
            u = t
            while u.astimezone(tz).utcoffset() == t.astimezone(tz).utcoffset():
                u += MINUTE
            out.append(u)
        t += step
    return tuple(out)


def test_degenerate_ranges_are_normalised_for_croniter() -> None:
    # croniter 7 reads "2-2" as "*": without normalising, "0 2-2 * * *" would run every hour.
    assert normalize_cron("0 2-2 * * MON-mon") == "0 2 * * MON"
    assert normalize_cron("0 0 1-1/2,3 * *") == "0 0 1,3 * *"
    after = datetime(2026, 1, 1, tzinfo=UTC)
    runs = next_occurrences("cron", after=after, count=2, cron="0 2-2 * * *", tz_name="UTC")
    assert runs == [datetime(2026, 1, 1, 2, tzinfo=UTC), datetime(2026, 1, 2, 2, tzinfo=UTC)]


def test_transition_scan_finds_the_known_changes() -> None:
    assert len(transitions("Europe/Berlin")) == 6
    assert datetime(2026, 3, 29, 1, tzinfo=UTC) in transitions("Europe/Berlin")
    assert datetime(2026, 10, 3, 15, 30, tzinfo=UTC) in transitions("Australia/Lord_Howe")
    assert transitions("Asia/Kolkata") == ()


@st.composite
def zone_and_start(draw: st.DrawFn) -> tuple[str, datetime]:
    tz_name = draw(st.sampled_from(ZONES))
    near = transitions(tz_name)
    use_transition: bool = draw(st.booleans())
    if near and use_transition:
        base = draw(st.sampled_from(near))
        offset = draw(st.integers(-36 * 60, 6 * 60))  # minutes
        start = base + timedelta(minutes=offset, seconds=draw(st.integers(0, 59)))
    else:
        naive = draw(st.datetimes(datetime(2026, 1, 1), datetime(2028, 12, 31, 23, 59)))
        start = naive.replace(tzinfo=UTC)
    return tz_name, start


# --- the oracle ---------------------------------------------------------------------------------


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def skipped_walls(instant: datetime, tz: ZoneInfo) -> list[datetime]:
    """Wall minutes that do not exist and that `instant` (a minute) is the first instant after."""
    before, now = _wall(instant - MINUTE, tz), _wall(instant, tz)
    out, w = [], before + MINUTE
    while w < now:
        out.append(w)
        w += MINUTE
    return out


def is_expected(cron: Cron, instant: datetime, tz: ZoneInfo) -> bool:
    local = instant.astimezone(tz)
    if local.fold == 1:
        return False  # the second pass of a fall-back hour: that wall time already ran
    if cron.match(local.replace(tzinfo=None)):
        return True
    return any(cron.match(w) for w in skipped_walls(instant, tz))


def _first_minute_after(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0) + MINUTE


# --- properties ---------------------------------------------------------------------------------


@settings(PROPS, max_examples=150)
@given(cron=crons(), where=zone_and_start())
def test_occurrences_increase_are_valid_and_match(cron: Cron, where: tuple[str, datetime]) -> None:
    tz_name, start = where
    tz = ZoneInfo(tz_name)
    occ = next_occurrences("cron", after=start, count=6, cron=cron.expr, tz_name=tz_name)
    assert occ, f"{cron.expr} produced no occurrence after {start}"
    assert occ[0] > start
    assert all(a < b for a, b in pairwise(occ)), occ
    for instant in occ:
        assert instant.tzinfo is UTC and instant.second == 0 and instant.microsecond == 0
        local = instant.astimezone(tz)
        # A valid instant: its wall time exists and this is that wall time's first occurrence.
        assert local.fold == 0
        assert local.replace(tzinfo=None).replace(tzinfo=tz).astimezone(UTC) == instant
        wall = local.replace(tzinfo=None)
        prepared, ors = prepare_cron(cron.expr)
        matched = croniter.match(prepared, wall, day_or=ors)
        assert matched == cron.match(wall), f"oracle disagrees with croniter on {cron.expr} at {wall}"
        if not matched:
            gap = skipped_walls(instant, tz)
            assert gap, f"{instant} ({wall} local) does not match {cron.expr} and is not after a gap"
            assert any(cron.match(w) for w in gap)


# No shrinking here: each example scans thousands of minutes, and the unshrunk case is readable.
@settings(PROPS, max_examples=60, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(cron=crons(), where=zone_and_start(), hours=st.integers(6, 72))
def test_brute_force_minute_scan_agrees(cron: Cron, where: tuple[str, datetime], hours: int) -> None:
    """Every expected minute in a bounded window is an occurrence, and nothing else is."""
    tz_name, start = where
    tz = ZoneInfo(tz_name)
    end = start + timedelta(hours=hours)
    expected, t = [], _first_minute_after(start)
    while t <= end:
        if is_expected(cron, t, tz):
            expected.append(t)
        t += MINUTE
    actual = []
    for instant in cron_occurrences(cron.expr, tz_name, start):
        if instant > end:
            break
        actual.append(instant)
    assert actual == expected, f"{cron.expr} in {tz_name} from {start}"


@settings(PROPS, max_examples=40)
@given(cron=crons(), where=zone_and_start(), k=st.integers(1, 5))
def test_resuming_after_an_occurrence_continues_the_sequence(
    cron: Cron, where: tuple[str, datetime], k: int
) -> None:
    """What the scheduler does: ask again after the last planned run; it must not skip or repeat."""
    tz_name, start = where
    occ = next_occurrences("cron", after=start, count=k + 3, cron=cron.expr, tz_name=tz_name)
    resumed = next_occurrences("cron", after=occ[k - 1], count=3, cron=cron.expr, tz_name=tz_name)
    assert resumed == occ[k : k + 3]


@pytest.mark.parametrize(
    ("expr", "days"),
    [
        ("0 0 1,15 * 1", [1, 2, 9, 15, 16, 23, 30]),  # both restricted: the 1st, the 15th or a Monday
        ("0 0 */2 * 1", [9, 23]),  # "*/2" starts with "*": AND, so odd-day Mondays only
        ("0 0 1-31 * 1", list(range(1, 32))),  # neither starts with "*": OR with every day
        ("0 0 3 * */1", [3]),
        ("0 0 3 * 0-0,*/1", list(range(1, 32))),  # OR with a weekday list that covers the week
        ("0 0 * * 1", [2, 9, 16, 23, 30]),
    ],
)
def test_day_of_month_and_weekday_follow_vixie_cron(expr: str, days: list[int]) -> None:
    runs = next_occurrences(
        "cron", after=datetime(2026, 2, 28, 12, tzinfo=UTC), count=40, cron=expr, tz_name="UTC"
    )
    assert [r.day for r in runs if (r.year, r.month) == (2026, 3)] == days  # March 2026 starts on a Sunday
