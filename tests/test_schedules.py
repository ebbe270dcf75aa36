"""Table tests for scheduler_core.tasks.schedules at the known 2026 and 2027 DST transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler_core.errors import InvalidInput
from scheduler_core.tasks.schedules import (
    describe_schedule,
    format_duration,
    next_occurrences,
    repeatable_index_after,
    wall_to_instant,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def cron(expr: str, tz: str, after: datetime, count: int) -> list[datetime]:
    return next_occurrences("cron", after=after, count=count, cron=expr, tz_name=tz)


def runs_on_local_day(expr: str, tz: str, day: datetime) -> list[datetime]:
    """Every occurrence whose local date is `day` (a naive date at midnight)."""
    z = ZoneInfo(tz)
    start = day.replace(tzinfo=z) - timedelta(days=1)
    return [t for t in cron(expr, tz, start.astimezone(UTC), 80) if t.astimezone(z).date() == day.date()]


# (zone, local cron that falls in the gap, spring-forward day, the one expected run in UTC)
SPRING_FORWARD = [
    ("Europe/Berlin", "30 2 * * *", datetime(2026, 3, 29), utc(2026, 3, 29, 1, 0)),  # -> 03:00 CEST
    ("Europe/Berlin", "30 2 * * *", datetime(2027, 3, 28), utc(2027, 3, 28, 1, 0)),
    ("America/New_York", "30 2 * * *", datetime(2026, 3, 8), utc(2026, 3, 8, 7, 0)),  # -> 03:00 EDT
    ("America/New_York", "30 2 * * *", datetime(2027, 3, 14), utc(2027, 3, 14, 7, 0)),
    # Lord Howe skips 02:00-02:29 (+10:30 -> +11:00): 02:15 runs at 02:30 LHDT; 02:30 itself exists.
    ("Australia/Lord_Howe", "15 2 * * *", datetime(2026, 10, 4), utc(2026, 10, 3, 15, 30)),
    ("Australia/Lord_Howe", "30 2 * * *", datetime(2026, 10, 4), utc(2026, 10, 3, 15, 30)),
    ("Asia/Kolkata", "30 2 * * *", datetime(2026, 3, 29), utc(2026, 3, 28, 21, 0)),  # no DST
]

# (zone, cron on a repeated wall time, fall-back day, the one expected run in UTC: the first pass)
FALL_BACK = [
    ("Europe/Berlin", "30 2 * * *", datetime(2026, 10, 25), utc(2026, 10, 25, 0, 30)),  # 02:30 CEST
    ("Europe/Berlin", "30 2 * * *", datetime(2027, 10, 31), utc(2027, 10, 31, 0, 30)),
    ("America/New_York", "30 1 * * *", datetime(2026, 11, 1), utc(2026, 11, 1, 5, 30)),  # 01:30 EDT
    ("America/New_York", "30 1 * * *", datetime(2027, 11, 7), utc(2027, 11, 7, 5, 30)),
    ("America/New_York", "30 2 * * *", datetime(2026, 11, 1), utc(2026, 11, 1, 7, 30)),  # not repeated
    ("Australia/Lord_Howe", "45 1 * * *", datetime(2026, 4, 5), utc(2026, 4, 4, 14, 45)),  # 01:45 +11
    ("Asia/Kolkata", "30 2 * * *", datetime(2026, 10, 25), utc(2026, 10, 24, 21, 0)),
]


@pytest.mark.parametrize(("tz", "expr", "day", "expected"), SPRING_FORWARD)
def test_a_wall_time_in_the_gap_runs_once_at_the_next_valid_instant(
    tz: str, expr: str, day: datetime, expected: datetime
) -> None:
    assert runs_on_local_day(expr, tz, day) == [expected]


@pytest.mark.parametrize(("tz", "expr", "day", "expected"), FALL_BACK)
def test_a_repeated_wall_time_runs_once_at_its_first_occurrence(
    tz: str, expr: str, day: datetime, expected: datetime
) -> None:
    assert runs_on_local_day(expr, tz, day) == [expected]


def test_daily_cron_keeps_its_wall_time_across_the_transition() -> None:
    runs = cron("0 3 * * *", "Europe/Berlin", utc(2026, 3, 27, 12), 3)
    assert runs == [utc(2026, 3, 28, 2), utc(2026, 3, 29, 1), utc(2026, 3, 30, 1)]  # 03:00 CET, then CEST


def _every_quarter_hour(start: datetime, n: int) -> list[datetime]:
    return [start + timedelta(minutes=15 * i) for i in range(n)]


@pytest.mark.parametrize(
    ("tz", "after", "expected"),
    [
        # Spring forward: the gap's wall times collapse onto its end, so UTC spacing stays 15 min.
        ("Europe/Berlin", utc(2026, 3, 28, 23, 59), _every_quarter_hour(utc(2026, 3, 29, 0, 0), 9)),
        ("Europe/Berlin", utc(2027, 3, 27, 23, 59), _every_quarter_hour(utc(2027, 3, 28, 0, 0), 9)),
        ("America/New_York", utc(2026, 3, 8, 5, 59), _every_quarter_hour(utc(2026, 3, 8, 6, 0), 9)),
        ("America/New_York", utc(2027, 3, 14, 5, 59), _every_quarter_hour(utc(2027, 3, 14, 6, 0), 9)),
        ("Australia/Lord_Howe", utc(2026, 10, 3, 14, 59), _every_quarter_hour(utc(2026, 10, 3, 15, 0), 5)),
        ("Asia/Kolkata", utc(2026, 3, 28, 23, 59), _every_quarter_hour(utc(2026, 3, 29, 0, 0), 9)),
        # Fall back: the repeated hour's wall times ran on the first pass; the second pass is skipped.
        (
            "Europe/Berlin",
            utc(2026, 10, 24, 23, 59),
            [*_every_quarter_hour(utc(2026, 10, 25, 0, 0), 4), *_every_quarter_hour(utc(2026, 10, 25, 2), 3)],
        ),
        (
            "Europe/Berlin",
            utc(2027, 10, 30, 23, 59),
            [*_every_quarter_hour(utc(2027, 10, 31, 0, 0), 4), *_every_quarter_hour(utc(2027, 10, 31, 2), 3)],
        ),
        (
            "America/New_York",
            utc(2026, 11, 1, 4, 59),
            [*_every_quarter_hour(utc(2026, 11, 1, 5, 0), 4), *_every_quarter_hour(utc(2026, 11, 1, 7), 3)],
        ),
        (
            "America/New_York",
            utc(2027, 11, 7, 4, 59),
            [*_every_quarter_hour(utc(2027, 11, 7, 5, 0), 4), *_every_quarter_hour(utc(2027, 11, 7, 7), 3)],
        ),
        (
            "Australia/Lord_Howe",
            utc(2026, 4, 4, 14, 29),
            [
                *_every_quarter_hour(utc(2026, 4, 4, 14, 30), 2),
                *_every_quarter_hour(utc(2026, 4, 4, 15, 30), 3),
            ],
        ),
    ],
)
def test_every_15_minutes_through_a_transition(tz: str, after: datetime, expected: list[datetime]) -> None:
    runs = cron("*/15 * * * *", tz, after, len(expected))
    assert runs == expected
    assert len(set(runs)) == len(runs)


def test_wall_to_instant_maps_gap_and_fold() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert wall_to_instant(datetime(2026, 3, 29, 2, 30), berlin) == utc(2026, 3, 29, 1, 0)
    assert wall_to_instant(datetime(2026, 10, 25, 2, 30), berlin) == utc(2026, 10, 25, 0, 30)
    assert wall_to_instant(datetime(2026, 7, 1, 12, 0), berlin) == utc(2026, 7, 1, 10, 0)


def test_resuming_from_the_gap_run_does_not_repeat_it() -> None:
    first = cron("30 2 * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 0), 1)[0]
    assert first == utc(2026, 3, 29, 1, 0)
    assert cron("30 2 * * *", "Europe/Berlin", first, 1) == [utc(2026, 3, 30, 0, 30)]


# --- REPEATABLE ---


def repeatable(after: datetime, count: int, **kw: object) -> list[datetime]:
    return next_occurrences("repeatable", after=after, count=count, **kw)  # type: ignore[arg-type]


def test_repeat_n_gives_exactly_n_runs_starting_at_the_anchor() -> None:
    anchor = utc(2026, 12, 1)
    runs = repeatable(anchor - timedelta(seconds=1), 100, at=anchor, interval=900, repeat=10)
    assert runs == [anchor + timedelta(minutes=15 * i) for i in range(10)]


def test_repeat_n_stepping_one_run_at_a_time_also_gives_n() -> None:
    anchor, seen, after = utc(2026, 12, 1), [], utc(2026, 11, 30)
    while True:
        nxt = repeatable(after, 1, at=anchor, interval=60, repeat=3)
        if not nxt:
            break
        seen.append(nxt[0])
        after = nxt[0]
    assert seen == [anchor, anchor + timedelta(minutes=1), anchor + timedelta(minutes=2)]


def test_repeat_1_is_the_anchor_only_and_nothing_after_the_last_run() -> None:
    anchor = utc(2026, 12, 1)
    assert repeatable(anchor - timedelta(hours=1), 5, at=anchor, interval=60, repeat=1) == [anchor]
    assert repeatable(anchor, 5, at=anchor, interval=60, repeat=1) == []
    assert repeatable(anchor + timedelta(minutes=2), 5, at=anchor, interval=60, repeat=3) == []


def test_repeat_forever_continues_from_after() -> None:
    anchor = utc(2026, 12, 1)
    runs = repeatable(utc(2026, 12, 1, 0, 59, 59), 3, at=anchor, interval=3600, repeat=None)
    assert runs == [utc(2026, 12, 1, 1), utc(2026, 12, 1, 2), utc(2026, 12, 1, 3)]
    assert len(repeatable(anchor, 1000, at=anchor, interval=1, repeat=None)) == 1000


def test_repeatable_counts_elapsed_time_across_dst() -> None:
    # An anchor in a DST zone still advances by exact seconds, not by wall-clock days.
    anchor = datetime(2026, 3, 28, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    runs = repeatable(anchor, 1, at=anchor, interval=86400)
    assert runs == [utc(2026, 3, 29, 11, 0)]  # 13:00 CEST: 24 h later, not 12:00 wall time
    assert (
        repeatable_index_after(anchor, 86400, datetime(2026, 3, 29, 12, 30, tzinfo=ZoneInfo("Europe/Berlin")))
        == 1
    )


# --- ONCE ---


def test_once_in_the_future_runs_once_and_in_the_past_never() -> None:
    at = utc(2026, 12, 24, 17)
    assert next_occurrences("once", after=utc(2026, 12, 1), count=5, at=at) == [at]
    assert next_occurrences("once", after=at, at=at) == []
    assert next_occurrences("once", after=utc(2027, 1, 1), at=at) == []
    assert next_occurrences("ONCE", after=utc(2026, 1, 1), at=at.astimezone(ZoneInfo("Asia/Kolkata"))) == [at]


def test_count_zero_gives_nothing() -> None:
    assert cron("* * * * *", "UTC", utc(2026, 1, 1), 0) == []


# --- bad input ---


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "cron", "cron": "0 3 * * *", "tz_name": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"kind": "cron", "cron": "61 * * * *"}, 'invalid cron "61 * * * *"'),
        ({"kind": "cron", "cron": "0 3 * *"}, "expected 5 fields"),
        ({"kind": "cron", "cron": "0 0 0 3 * * *"}, "expected 5 fields"),
        ({"kind": "cron", "cron": "@daily"}, "expected 5 fields"),
        ({"kind": "cron", "cron": "0 0 30 2 *"}, "never matches"),
        ({"kind": "cron", "cron": ""}, "needs a cron expression"),
        ({"kind": "repeatable", "interval": 0, "at": utc(2026, 1, 1)}, "interval > 0"),
        ({"kind": "repeatable", "interval": 60}, "anchor"),
        ({"kind": "weekly"}, "unknown task type 'weekly'"),
    ],
)
def test_bad_input_is_invalid_input_with_a_clear_message(kwargs: dict[str, object], message: str) -> None:
    kind = str(kwargs.pop("kind"))
    with pytest.raises(InvalidInput) as exc:
        next_occurrences(kind, after=utc(2026, 1, 1), **kwargs)  # type: ignore[arg-type]
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)
    assert exc.value.exit_code == 3


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrences("cron", after=datetime(2026, 1, 1), cron="* * * * *")


# --- describe_schedule ---


@pytest.mark.parametrize(
    ("kind", "kw", "text"),
    [
        ("cron", {"cron": "0 3 * * *", "tz_name": "Europe/Berlin"}, "cron 0 3 * * * (Europe/Berlin)"),
        ("CRON", {"cron": "*/5 * * * *"}, "cron */5 * * * * (UTC)"),
        ("repeatable", {"interval": 900, "repeat": 10}, "every 15m, 10 runs"),
        ("repeatable", {"interval": 90, "repeat": 1}, "every 1m30s, 1 run"),
        ("repeatable", {"interval": 3600, "at": utc(2026, 12, 1)}, "every 1h, from 2026-12-01 00:00 UTC"),
        ("repeatable", {}, "every ? (no interval)"),
        (
            "once",
            {"at": datetime(2026, 12, 24, 18, tzinfo=ZoneInfo("Europe/Berlin"))},
            "once at 2026-12-24 17:00 UTC",
        ),
        ("once", {}, "once (no time set)"),
        ("weekly", {}, "unknown type 'weekly'"),
    ],
)
def test_describe_schedule(kind: str, kw: dict[str, object], text: str) -> None:
    assert describe_schedule(kind, **kw) == text  # type: ignore[arg-type]


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 45, 90, 900, 3600, 86400, 604800, 694861)] == [
        "0s",
        "45s",
        "1m30s",
        "15m",
        "1h",
        "1d",
        "1w",
        "1w1d1h1m1s",
    ]
