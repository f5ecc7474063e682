"""Sums over settled rollup hours, kept in memory: a chart drawn again reads only what is new.

An hour's rollup rows stop changing once the requests of that hour have been recorded, so the
sums of hours that ended at least ``SETTLE`` ago are kept per scope (hour by hour for the usage
chart, per team or user for the comparisons) and a later request asks the database only for
the hours it does not hold yet: the last, still open ones. On millions of rows this turns a
scan of every hour of a 90-day chart into a scan of the last hour or two.

Entries expire after ``TTL_SECONDS`` (a late correction shows by then) and the least recently
used go first when more than ``MAX_POINTS`` values are held. One cache per app, on
``app.state``: it holds nothing that must exist at start-up, so it is made on first use.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from fastapi import Request

from tokengate.dashboard.reads.monitoring import Group

# rows of an hour that ended at least this long ago are settled
SETTLE = timedelta(hours=1)
TTL_SECONDS = 30 * 60.0
MAX_POINTS = 500_000

HourLoader = Callable[[datetime, datetime], Awaitable[Sequence[tuple[datetime, int]]]]
GroupLoader = Callable[[datetime, datetime], Awaitable[Sequence[Group]]]
_K = TypeVar("_K", datetime, int)
_V = TypeVar("_V", int, Group)


@dataclass
class _Span(Generic[_K, _V]):
    """What is held for [start, end): sums per hour, or per team or user."""

    start: datetime
    end: datetime
    values: dict[_K, _V] = field(default_factory=dict)
    expires: float = field(default_factory=lambda: time.monotonic() + TTL_SECONDS)


class _Store(Generic[_K, _V]):
    """Spans by key, least recently used first."""

    def __init__(self, max_points: int) -> None:
        self._spans: OrderedDict[Hashable, _Span[_K, _V]] = OrderedDict()
        self._max_points = max_points

    def get(self, key: Hashable) -> _Span[_K, _V] | None:
        span = self._spans.get(key)
        if span is None:
            return None
        if span.expires < time.monotonic():
            del self._spans[key]
            return None
        self._spans.move_to_end(key)
        return span

    def put(self, key: Hashable, span: _Span[_K, _V]) -> _Span[_K, _V]:
        self._spans[key] = span
        self._spans.move_to_end(key)
        return span

    def trim(self) -> None:
        held = sum(len(s.values) for s in self._spans.values())
        while len(self._spans) > 1 and held > self._max_points:
            _, dropped = self._spans.popitem(last=False)
            held -= len(dropped.values)


def settled(now: datetime) -> datetime:
    """Hours starting before this instant ended at least ``SETTLE`` ago."""
    return now.replace(minute=0, second=0, microsecond=0) - SETTLE


class RollupCache:
    """Per scope, the sums of settled hours already read (see the module's docstring)."""

    def __init__(self, *, max_points: int = MAX_POINTS) -> None:
        self._hours: _Store[datetime, int] = _Store(max_points)
        self._groups: _Store[int, Group] = _Store(max_points)

    async def hours(
        self, key: Hashable, start: datetime, end: datetime, now: datetime, load: HourLoader
    ) -> list[tuple[datetime, int]]:
        """Sums per hour in [start, end): settled hours from memory, the rest loaded."""
        edge = min(max(settled(now), start), end)
        old: list[tuple[datetime, int]] = []
        if start < edge:
            span = await self._grow(key, start, edge, load)
            old = sorted((h, v) for h, v in span.values.items() if start <= h < edge)
        return old + (list(await load(edge, end)) if edge < end else [])

    async def groups(
        self, key: Hashable, start: datetime, end: datetime, now: datetime, load: GroupLoader
    ) -> list[Group]:
        """Sums per team or user over [start, end), most tokens first (``start`` is a period's:
        a key holds one period's settled hours)."""
        edge = min(max(settled(now), start), end)
        found: dict[int, Group] = {}
        if start < edge:
            span = self._groups.get(key)
            if span is None or span.start != start or span.end > edge:
                span = self._groups.put(key, _Span(start, start))
            if span.end < edge:
                _add(span.values, await load(span.end, edge))
                span.end = edge
                self._groups.trim()
            found.update(span.values)
        if edge < end:
            _add(found, await load(edge, end))
        return sorted(found.values(), key=lambda g: (-g.tokens, g.id))

    async def _grow(
        self, key: Hashable, start: datetime, edge: datetime, load: HourLoader
    ) -> _Span[datetime, int]:
        span = self._hours.get(key)
        if span is None or start > span.end or edge < span.start:
            # nothing held that touches this range: read the whole of it once
            span = self._hours.put(key, _Span(start, start))
        if start < span.start:
            span.values.update(await load(start, span.start))
            span.start = start
        if span.end < edge:
            span.values.update(await load(span.end, edge))
            span.end = edge
        self._hours.trim()
        return span


def _add(into: dict[int, Group], groups: Sequence[Group]) -> None:
    for group in groups:
        held = into.get(group.id)
        into[group.id] = (
            group
            if held is None
            else Group(
                group.id,
                held.requests + group.requests,
                held.tokens + group.tokens,
                held.cost_micros + group.cost_micros,
            )
        )


def rollup_cache(request: Request) -> RollupCache:
    """The app's cache, made on first use."""
    state = request.app.state
    found = getattr(state, "monitoring_rollups", None)
    if not isinstance(found, RollupCache):
        found = RollupCache()
        state.monitoring_rollups = found
    return found
