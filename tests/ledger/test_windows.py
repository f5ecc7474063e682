from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokengate.ledger.types import Window
from tokengate.ledger.windows import (
    CALENDAR_WINDOWS,
    LIFETIME_END,
    LIFETIME_START,
    gap_end,
    next_period,
    period_start,
    window_bounds,
)

# Seoul has no DST; New York and London do; Santiago and Algiers have skipped local midnights;
# Nuuk (since 2024) skips the last hour of a Saturday; Goose Bay (1987-2010) turned its clocks
# back from 00:01 to 23:01, so midnight came twice; Apia skipped 30 December 2011 altogether.
ZONES = [
    "Asia/Seoul",
    "America/New_York",
    "Europe/London",
    "America/Santiago",
    "Africa/Algiers",
    "America/Nuuk",
    "America/Goose_Bay",
    "Pacific/Apia",
]
CALENDAR = sorted(CALENDAR_WINDOWS)
INSTANTS = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001 (hypothesis takes naive bounds)
    max_value=datetime(2037, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
MICROSECOND = timedelta(microseconds=1)


def wall(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz).replace(tzinfo=None)


@settings(max_examples=400)
@given(at=INSTANTS, zone=st.sampled_from(ZONES), window=st.sampled_from(CALENDAR))
def test_calendar_windows_tile_time(at: datetime, zone: str, window: Window) -> None:
    tz = ZoneInfo(zone)
    start, end = window_bounds(window, at, tz)
    assert start <= at < end
    assert window_bounds(window, start, tz) == (start, end)
    assert window_bounds(window, end - MICROSECOND, tz) == (start, end)
    assert window_bounds(window, end, tz)[0] == end
    assert window_bounds(window, start - MICROSECOND, tz)[1] == start


@settings(max_examples=400)
@given(at=INSTANTS, zone=st.sampled_from(ZONES), window=st.sampled_from(CALENDAR))
def test_a_window_starts_when_the_clock_first_reads_its_first_day(
    at: datetime, zone: str, window: Window
) -> None:
    tz = ZoneInfo(zone)
    start, _ = window_bounds(window, at, tz)
    first = start.astimezone(tz).date()
    assert period_start(window, first) == first
    midnight = datetime.combine(first, time(0))
    assert wall(start - MICROSECOND, tz) < midnight <= wall(start, tz)


@settings(max_examples=200)
@given(at=INSTANTS, zone=st.sampled_from(ZONES[:3]))
def test_days_last_23_to_25_hours_and_weeks_start_on_monday(at: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    start, end = window_bounds("day", at, tz)
    assert end - start in {timedelta(hours=h) for h in (23, 24, 25)}
    week_start, week_end = window_bounds("week", at, tz)
    assert week_start.astimezone(tz).weekday() == 0
    assert timedelta(hours=167) <= week_end - week_start <= timedelta(hours=169)


@given(at=INSTANTS)
def test_the_rolling_minute_covers_sixty_whole_seconds(at: datetime) -> None:
    start, end = window_bounds("minute", at, ZoneInfo("Asia/Seoul"))
    assert start <= at < end
    assert end - start == timedelta(seconds=60)
    assert end == at.replace(microsecond=0) + timedelta(seconds=1)


def test_lifetime_is_one_window() -> None:
    at = datetime(2031, 5, 5, tzinfo=UTC)
    assert window_bounds("lifetime", at, ZoneInfo("UTC")) == (LIFETIME_START, LIFETIME_END)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "at", "start", "end"),
    [
        ("Asia/Seoul", utc(2031, 1, 31, 15), utc(2031, 1, 31, 15), utc(2031, 2, 1, 15)),
        ("America/New_York", utc(2024, 3, 10, 12), utc(2024, 3, 10, 5), utc(2024, 3, 11, 4)),
        ("America/New_York", utc(2024, 11, 3, 12), utc(2024, 11, 3, 4), utc(2024, 11, 4, 5)),
        ("Europe/London", utc(2024, 3, 31, 12), utc(2024, 3, 31, 0), utc(2024, 3, 31, 23)),
        # Midnight did not exist on 8 September 2024: the day starts at 01:00 local.
        ("America/Santiago", utc(2024, 9, 8, 12), utc(2024, 9, 8, 4), utc(2024, 9, 9, 3)),
        # 23:29 on 24 October, but the second time round: 25 October had already begun.
        ("America/Goose_Bay", utc(1987, 10, 25, 3, 30), utc(1987, 10, 25, 3), utc(1987, 10, 26, 4)),
        ("America/Nuuk", utc(2024, 3, 30, 12), utc(2024, 3, 30, 2), utc(2024, 3, 31, 1)),
        ("Pacific/Apia", utc(2011, 12, 30, 9, 59), utc(2011, 12, 29, 10), utc(2011, 12, 30, 10)),
        ("Pacific/Apia", utc(2011, 12, 30, 10), utc(2011, 12, 30, 10), utc(2011, 12, 31, 10)),
    ],
)
def test_days_across_clock_changes(zone: str, at: datetime, start: datetime, end: datetime) -> None:
    assert window_bounds("day", at, ZoneInfo(zone)) == (start, end)


@pytest.mark.parametrize(
    ("window", "start", "end"),
    [
        ("week", utc(2031, 5, 11, 15), utc(2031, 5, 18, 15)),
        ("month", utc(2031, 4, 30, 15), utc(2031, 5, 31, 15)),
        ("quarter", utc(2031, 3, 31, 15), utc(2031, 6, 30, 15)),
        ("year", utc(2030, 12, 31, 15), utc(2031, 12, 31, 15)),
    ],
)
def test_calendar_periods_in_seoul(window: Window, start: datetime, end: datetime) -> None:
    at = utc(2031, 5, 14, 9)  # a Wednesday
    assert window_bounds(window, at, ZoneInfo("Asia/Seoul")) == (start, end)


def test_a_skipped_wall_time_maps_to_the_jump() -> None:
    tz = ZoneInfo("America/New_York")
    for minute in (0, 1, 30, 59):
        wall = datetime(2024, 3, 10, 2, minute, tzinfo=tz)
        assert gap_end(wall, tz) == utc(2024, 3, 10, 7)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        window_bounds("day", datetime(2031, 1, 1), ZoneInfo("UTC"))  # noqa: DTZ001
    with pytest.raises(ValueError, match="calendar"):
        period_start("minute", date(2031, 1, 1))
    with pytest.raises(ValueError, match="calendar"):
        next_period("lifetime", date(2031, 1, 1))
