"""The query parameters of the monitoring charts, checked: a wrong one is refused with a message
that says what is accepted (400), in the viewer's language."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from tokengate.dashboard.reads.monitoring import By
from tokengate.dashboard.reads.series import (
    BUCKET_HOURS,
    BUCKETS,
    METRICS,
    Bucket,
    Grid,
    Metric,
    estimate,
    floor,
    grid,
    shift,
)
from tokengate.errors import InvalidRequest
from tokengate.ids import MAX_ID

Window = Literal["day", "week", "month"]
PRESETS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
DEFAULT_PRESET = "30d"
WINDOWS: tuple[Window, ...] = ("day", "week", "month")
GROUPINGS: tuple[By, ...] = ("team", "user")
# more points than a chart can show legibly (and than a browser should draw)
MAX_BUCKETS = 1000
MAX_DAYS = 1100
# dates far outside any usage (and any calendar arithmetic's reach)
_EARLIEST, _LATEST = 1970, 2999
_TRUE = frozenset({"1", "true", "on", "yes"})
_FALSE = frozenset({"", "0", "false", "off", "no"})
_T = TypeVar("_T", bound=str)


@dataclass(frozen=True)
class Filter:
    """Whose usage a chart shows: a tenant (system administrators), a team or a user."""

    tenant_id: int | None
    team_id: int | None
    user_id: int | None


@dataclass(frozen=True)
class SeriesQuery:
    metric: Metric
    grid: Grid
    asked: Bucket | None  # the bucket asked for, when a coarser one had to be used
    preset: str | None
    compare: bool
    filter: Filter


@dataclass(frozen=True)
class CompareQuery:
    by: By
    window: Window
    filter: Filter


def parse_series(params: Mapping[str, str], *, now: datetime, tz: ZoneInfo) -> SeriesQuery:
    """What ``series.json`` is asked for: metric, buckets over the period, comparison, filter."""
    metric = choice(params, "metric", METRICS, "tokens")
    wanted = choice(params, "bucket", (*BUCKETS, "auto"), "auto")
    compare = _flag(params, "compare")
    preset, start, end = _period(params, now=now, tz=tz)
    length = end - start
    bucket: Bucket = _auto(length) if wanted == "auto" else wanted  # type: ignore[assignment]
    asked: Bucket | None = None
    while estimate(start, end, bucket) > MAX_BUCKETS:
        asked = asked or bucket
        bucket = BUCKETS[BUCKETS.index(bucket) + 1]
    if preset is not None:
        last = shift(floor(now, bucket, tz), bucket, tz, 1)
        count = max(1, math.ceil(length / timedelta(hours=BUCKET_HOURS[bucket])))
        start, end = shift(last, bucket, tz, -count), last
    return SeriesQuery(
        metric, grid(start, end, bucket, tz), asked, preset, compare, _filter(params)
    )


def parse_compare(params: Mapping[str, str]) -> CompareQuery:
    """What ``compare.json`` and ``compare.csv`` are asked for."""
    return CompareQuery(
        by=choice(params, "by", GROUPINGS, "team"),
        window=choice(params, "period", WINDOWS, "month"),
        filter=_filter(params),
    )


def _filter(params: Mapping[str, str]) -> Filter:
    return Filter(ident(params, "tenant_id"), ident(params, "team_id"), ident(params, "user_id"))


def choice(params: Mapping[str, str], name: str, allowed: tuple[_T, ...], default: _T) -> _T:
    """One of the allowed words (the default when absent or empty)."""
    value = params.get(name) or default
    if value not in allowed:
        listed = ", ".join(allowed)
        raise InvalidRequest(
            param=name,
            localized={
                "en": f"Unknown {name} {value!r}: use one of {listed}.",
                "ko": f"알 수 없는 {name} 값 {value!r}: {listed} 중 하나를 사용하세요.",
            },
        )
    return value


def ident(params: Mapping[str, str], name: str) -> int | None:
    """A positive id, or None when absent or empty."""
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise InvalidRequest(
            param=name,
            localized={
                "en": f"{name} must be a positive whole number, not {value!r}.",
                "ko": f"{name} 값은 양의 정수여야 합니다 ({value!r}).",
            },
        )
    return int(value)


def _flag(params: Mapping[str, str], name: str) -> bool:
    value = (params.get(name) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidRequest(
        param=name,
        localized={
            "en": f"{name} must be true or false, not {value!r}.",
            "ko": f"{name} 값은 true 또는 false여야 합니다 ({value!r}).",
        },
    )


def _period(
    params: Mapping[str, str], *, now: datetime, tz: ZoneInfo
) -> tuple[str | None, datetime, datetime]:
    raw_start, raw_end = params.get("start") or "", params.get("end") or ""
    if raw_start or raw_end:
        end = _moment(raw_end, "end", tz) if raw_end else now
        start = _moment(raw_start, "start", tz) if raw_start else end - PRESETS[DEFAULT_PRESET]
        preset = None
    else:
        preset = choice(params, "preset", tuple(PRESETS), DEFAULT_PRESET)
        start, end = now - PRESETS[preset], now
    if start >= end:
        raise InvalidRequest(
            param="start",
            localized={
                "en": "The start of the period must be before its end.",
                "ko": "기간의 시작은 끝보다 앞서야 합니다.",
            },
        )
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidRequest(
            param="end",
            localized={
                "en": f"The period is too long: choose at most {MAX_DAYS} days.",
                "ko": f"기간이 너무 깁니다: 최대 {MAX_DAYS}일까지 선택하세요.",
            },
        )
    return preset, start, end


def _moment(value: str, name: str, tz: ZoneInfo) -> datetime:
    """A date (its local midnight; an end date counts whole) or an ISO 8601 date and time
    (without an offset: the viewer's local time)."""
    value = value.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time(), tzinfo=tz)
            if name == "end":
                moment = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
        else:
            moment = datetime.fromisoformat(value)
        if not _EARLIEST <= moment.year <= _LATEST:
            raise ValueError(value)
    except (ValueError, OverflowError):
        raise InvalidRequest(
            param=name,
            localized={
                "en": f"{name} must be a date (YYYY-MM-DD) or a date and time, not {value!r}.",
                "ko": f"{name} 값은 날짜(YYYY-MM-DD) 또는 날짜와 시각이어야 합니다 ({value!r}).",
            },
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _auto(length: timedelta) -> Bucket:
    """The bucket that suits a period's length."""
    if length <= timedelta(days=7):
        return "hour"
    if length <= timedelta(days=92):
        return "day"
    if length <= timedelta(days=366):
        return "week"
    return "month"
