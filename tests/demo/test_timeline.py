import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tokengate.demo.timeline import (
    WEEKEND_FACTOR,
    day_factor,
    local_midnight,
    month_start,
    times_between,
    times_on_day,
)

SEOUL = ZoneInfo("Asia/Seoul")


def test_month_start_is_local():
    # 00:20 on 1 June in Seoul is still 31 May in UTC
    now = datetime(2025, 5, 31, 15, 20, tzinfo=UTC)
    assert month_start(now=now, tz=SEOUL) == datetime(2025, 5, 31, 15, 0, tzinfo=UTC)
    assert month_start(now=now, tz=ZoneInfo("UTC")) == datetime(2025, 5, 1, tzinfo=UTC)


def test_local_midnight():
    assert local_midnight(day=date(2024, 2, 29), tz=SEOUL) == datetime(
        2024, 2, 28, 15, 0, tzinfo=UTC
    )


def test_weekends_are_quieter():
    assert day_factor(date(2025, 3, 14)) == 1.0
    assert day_factor(date(2025, 3, 15)) == WEEKEND_FACTOR
    assert day_factor(date(2025, 3, 16)) == WEEKEND_FACTOR


def test_times_between_stay_in_the_window():
    rng = random.Random(1)
    start = datetime(2025, 3, 1, 3, 17, 5, tzinfo=UTC)
    end = datetime(2025, 3, 4, 9, 42, 1, 7, tzinfo=UTC)
    times = times_between(rng, start=start, end=end, count=2_000, tz=SEOUL)
    assert len(times) == 2_000
    assert all(start <= t < end for t in times)


def test_times_between_a_tiny_window():
    rng = random.Random(2)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    end = start + timedelta(microseconds=1)
    assert times_between(rng, start=start, end=end, count=3, tz=SEOUL) == [start] * 3
    assert times_between(rng, start=start, end=start, count=2, tz=SEOUL) == [start] * 2


def test_times_on_day_follow_office_hours():
    rng = random.Random(3)
    day = date(2025, 3, 12)
    times = times_on_day(rng, day=day, count=3_000, tz=SEOUL)
    local = [t.astimezone(SEOUL) for t in times]
    assert {t.date() for t in local} == {day}
    office = sum(9 <= t.hour < 19 for t in local)
    night = sum(t.hour < 6 for t in local)
    assert office > 0.7 * len(local)
    assert night < 0.02 * len(local)
