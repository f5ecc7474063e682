"""Window arithmetic: which period a limit's counter covers at a given instant.

Calendar windows (day, week, month, quarter, year) follow the tenant's IANA timezone. A window
starts at the first instant the local wall clock reads the period's first day at 00:00: a local
day is 23 or 25 hours long across DST changes, and when local midnight does not exist (the clock
jumps over it) the window starts at the jump. Weeks start on Monday. Consecutive windows touch:
each one ends exactly where the next starts.

``minute`` is a rolling window of 60 one-second buckets: at instant ``at`` it covers the bucket
of ``at`` (``at`` floored to the second) and the 59 before it, so ``[floor(at) - 59 s,
floor(at) + 1 s)``. Usage is charged to the bucket of the request's reservation and stops
counting 60 s after that second began: at most 60 s and at least 59 s after the request.

``lifetime`` is one window that never ends (``LIFETIME_END`` stands in for "never").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from tokengate.ledger.types import Window

ROLLING_SECONDS = 60
LIFETIME_START = datetime(1970, 1, 1, tzinfo=UTC)
LIFETIME_END = datetime(9999, 1, 1, tzinfo=UTC)
CALENDAR_WINDOWS: frozenset[Window] = frozenset({"day", "week", "month", "quarter", "year"})


def window_bounds(window: Window, at: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the UTC start (inclusive) and end (exclusive) of the window containing ``at``."""
    if at.tzinfo is None:
        raise ValueError("window_bounds needs an aware datetime")
    at = at.astimezone(UTC)
    if window == "minute":
        return rolling_bounds(at)
    if window == "lifetime":
        return LIFETIME_START, LIFETIME_END
    first = period_start(window, at.astimezone(tz).date())
    start, end = local_midnight(first, tz), local_midnight(next_period(window, first), tz)
    # Where the wall clock goes back across midnight, the local date of ``at`` can name the
    # period that already ended; the windows themselves stay contiguous, so step to the right one.
    while at >= end:
        first = next_period(window, first)
        start, end = end, local_midnight(next_period(window, first), tz)
    return start, end


def rolling_bounds(at: datetime) -> tuple[datetime, datetime]:
    """Return the 60 seconds of buckets the rolling minute covers at ``at``."""
    second = bucket_second(at)
    start = datetime.fromtimestamp(second - ROLLING_SECONDS + 1, UTC)
    return start, datetime.fromtimestamp(second + 1, UTC)


def bucket_second(at: datetime) -> int:
    """Return the epoch second of the one-second bucket holding ``at``."""
    return (at - LIFETIME_START) // timedelta(seconds=1)


def period_start(window: Window, day: date) -> date:
    """Return the first local day of the calendar period holding ``day``."""
    if window == "day":
        return day
    if window == "week":
        return day - timedelta(days=day.weekday())
    if window == "month":
        return day.replace(day=1)
    if window == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if window == "year":
        return date(day.year, 1, 1)
    raise ValueError(f"{window} is not a calendar window")


def next_period(window: Window, first: date) -> date:
    """Return the first local day of the period after the one starting on ``first``."""
    if window == "day":
        return first + timedelta(days=1)
    if window == "week":
        return first + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}.get(window)
    if months is None:
        raise ValueError(f"{window} is not a calendar window")
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@lru_cache(maxsize=4096)
def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Return the first instant at which the wall clock in ``tz`` reads ``day`` 00:00 or later.

    Pure, and asked for on every reservation: remembered for the few days and zones in use.
    """
    wall = datetime.combine(day, time(0), tzinfo=tz)
    first = wall.astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return first
    return gap_end(wall, tz)


def gap_end(wall: datetime, tz: ZoneInfo) -> datetime:
    """Return the instant the clock jumps forward over the non-existent wall time ``wall``."""
    # fold=1 reads the wall time with the offset after the jump, landing before the jump;
    # fold=0 reads it with the offset before, landing after it. Bisect on whole seconds.
    low = int(wall.replace(fold=1).astimezone(UTC).timestamp())
    high = int(wall.replace(fold=0).astimezone(UTC).timestamp())
    after = datetime.fromtimestamp(high, UTC).astimezone(tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)
