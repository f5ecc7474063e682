"""When demo requests happen: office hours on weekdays, a trickle at night and at weekends."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# relative request rate per local hour: a morning peak, lunch, an afternoon deadline peak
HOUR_WEIGHTS: tuple[float, ...] = (
    0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.2,
    0.6, 1.0, 1.4, 1.3, 0.6, 1.0, 1.4, 1.5,
    1.3, 1.0, 0.6, 0.4, 0.3, 0.25, 0.15, 0.05,
)  # fmt: skip
WEEKEND_FACTOR = 0.2
_HOUR = timedelta(hours=1)
_MICROSECOND = timedelta(microseconds=1)


def day_factor(day: date) -> float:
    """Return how busy a day is relative to a weekday."""
    return WEEKEND_FACTOR if day.weekday() >= 5 else 1.0


def month_start(*, now: datetime, tz: ZoneInfo) -> datetime:
    """Return the start of now's calendar month in tz, in UTC."""
    local = now.astimezone(tz)
    return datetime(local.year, local.month, 1, tzinfo=tz).astimezone(UTC)


def local_midnight(*, day: date, tz: ZoneInfo) -> datetime:
    """Return the start of a local day, in UTC."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def times_on_day(rng: random.Random, *, day: date, count: int, tz: ZoneInfo) -> list[datetime]:
    """Return count sorted UTC instants within a local day, shaped by office hours."""
    start = local_midnight(day=day, tz=tz)
    end = local_midnight(day=day + timedelta(days=1), tz=tz)
    return times_between(rng, start=start, end=end, count=count, tz=tz)


def times_between(
    rng: random.Random, *, start: datetime, end: datetime, count: int, tz: ZoneInfo
) -> list[datetime]:
    """Return count sorted UTC instants in [start, end), shaped by office hours (start if empty)."""
    slots = _hour_slots(start=start, end=end)
    if not slots:
        return [start] * count
    weights = [_slot_weight(slot_start, length, tz) for slot_start, length in slots]
    chosen = rng.choices(slots, weights=weights, k=count)
    return sorted(slot_start + _offset(rng, length) for slot_start, length in chosen)


def _hour_slots(*, start: datetime, end: datetime) -> list[tuple[datetime, timedelta]]:
    slots = []
    cursor = start
    while cursor < end:
        slot_end = min(cursor.replace(minute=0, second=0, microsecond=0) + _HOUR, end)
        slots.append((cursor, slot_end - cursor))
        cursor = slot_end
    return slots


def _slot_weight(slot_start: datetime, length: timedelta, tz: ZoneInfo) -> float:
    local = slot_start.astimezone(tz)
    return HOUR_WEIGHTS[local.hour] * day_factor(local.date()) * (length / _HOUR)


def _offset(rng: random.Random, length: timedelta) -> timedelta:
    return rng.randrange(length // _MICROSECOND) * _MICROSECOND
