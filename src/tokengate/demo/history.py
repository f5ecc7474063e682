"""Deterministic usage history of the demo users, this month landing exactly on each target."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tokengate.demo.records import Draw, Engine, Subject, failure_record, success_record
from tokengate.demo.timeline import (
    WEEKEND_FACTOR,
    day_factor,
    local_midnight,
    month_start,
    times_between,
    times_on_day,
)
from tokengate.usage.schemas import UsageRecord

HISTORY_SEED = "tokengate-demo-v1"
HISTORY_DAYS = 90
ERROR_RATE = 0.012
# past months used this share of the current month's total so far: usage is growing
PAST_SHARE = (0.55, 0.85)
# weekdays, plus weekends at their reduced rate, in an average month
BUSY_DAYS_PER_MONTH = 21.7 + 8.7 * WEEKEND_FACTOR
# an earlier month never came near the limit: the quota would have stopped it
PAST_MONTH_CAP_PERCENT = 90
_RETRY_GAP_SECONDS = (5, 180)


def history_start(*, now: datetime, tz: ZoneInfo) -> datetime:
    """Return the start of the history: local midnight 89 days before now's day, in UTC."""
    return local_midnight(day=now.astimezone(tz).date() - timedelta(days=HISTORY_DAYS - 1), tz=tz)


def build_history(*, subjects: list[Subject], now: datetime, tz: ZoneInfo) -> list[UsageRecord]:
    """Return 90 days of usage up to now, ordered by time; the same now gives the same history."""
    records: list[UsageRecord] = []
    for subject in subjects:
        records.extend(_user_history(subject, now=now, tz=tz))
    records.sort(key=lambda record: (record.created_at, record.request_id))
    return records


def fit_tokens(pairs: list[tuple[int, int]], *, total: int) -> list[tuple[int, int]]:
    """Scale (input, output) pairs so that all their tokens sum to exactly total."""
    raw = sum(i + o for i, o in pairs)
    if raw == 0:
        if total:
            raise ValueError("cannot spread tokens over no requests")
        return list(pairs)
    scaled = [(i * total // raw, o * total // raw) for i, o in pairs]
    extra, remainder = divmod(total - sum(i + o for i, o in scaled), len(scaled))
    return [(i, o + extra + (n < remainder)) for n, (i, o) in enumerate(scaled)]


def poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson count (Knuth for small means, a rounded normal for large ones)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class _Picker:
    """Chooses a user's engine by their own preference and draws a typical request."""

    def __init__(self, rng: random.Random, engines: tuple[Engine, ...]) -> None:
        self.rng = rng
        self.engines = engines
        self.weights = [e.spec.popularity * rng.uniform(0.6, 1.4) for e in engines]
        tokens = [sum(e.spec.input_tokens + e.spec.output_tokens) / 2 for e in engines]
        self.mean_tokens = sum(w * t for w, t in zip(self.weights, tokens, strict=True)) / sum(
            self.weights
        )

    def draw(self, at: datetime) -> Draw:
        engine = self.rng.choices(self.engines, weights=self.weights)[0]
        spec = engine.spec
        tokens = (self.rng.randint(*spec.input_tokens), self.rng.randint(*spec.output_tokens))
        return Draw(at=at, engine=engine, tokens=tokens)


def _user_history(subject: Subject, *, now: datetime, tz: ZoneInfo) -> list[UsageRecord]:
    # reproducible demo data, not a secret
    rng = random.Random(f"{HISTORY_SEED}:{subject.email}")  # noqa: S311
    picker = _Picker(rng, subject.engines)
    start = month_start(now=now, tz=tz)
    first = history_start(now=now, tz=tz)
    draws = _past_draws(picker, subject, first_day=first.astimezone(tz).date(), start=start, tz=tz)
    draws += _month_draws(picker, subject, start=start, now=now, tz=tz)
    records = [success_record(rng, subject=subject, draw=draw) for draw in draws]
    for draw in draws:
        if rng.random() < ERROR_RATE:
            # the user met an upstream error and retried a moment later
            at = max(first, draw.at - timedelta(seconds=rng.randint(*_RETRY_GAP_SECONDS)))
            records.append(failure_record(rng, subject=subject, draw=draw, at=at))
    return records


def _month_draws(
    picker: _Picker, subject: Subject, *, start: datetime, now: datetime, tz: ZoneInfo
) -> list[Draw]:
    target = subject.month_target
    count = max(1, round(target / picker.mean_tokens)) if target else 0
    times = times_between(picker.rng, start=start, end=now, count=count, tz=tz)
    draws = [picker.draw(at) for at in times]
    fitted = fit_tokens([d.tokens for d in draws], total=target)
    return [Draw(at=d.at, engine=d.engine, tokens=t) for d, t in zip(draws, fitted, strict=True)]


def _past_draws(
    picker: _Picker, subject: Subject, *, first_day: date, start: datetime, tz: ZoneInfo
) -> list[Draw]:
    share = picker.rng.uniform(*PAST_SHARE)
    per_day = subject.month_target / picker.mean_tokens * share / BUSY_DAYS_PER_MONTH
    draws: list[Draw] = []
    day = first_day
    while local_midnight(day=day, tz=tz) < start:
        count = poisson(picker.rng, per_day * day_factor(day))
        times = times_on_day(picker.rng, day=day, count=count, tz=tz)
        draws.extend(picker.draw(at) for at in times)
        day += timedelta(days=1)
    cap = subject.monthly_token_limit * PAST_MONTH_CAP_PERCENT // 100
    return _cap_months(draws, cap=cap, tz=tz)


def _cap_months(draws: list[Draw], *, cap: int, tz: ZoneInfo) -> list[Draw]:
    """Keep each month's requests, in time order, as long as they fit under cap."""
    kept: list[Draw] = []
    used: dict[tuple[int, int], int] = {}
    for draw in draws:
        local = draw.at.astimezone(tz)
        month = (local.year, local.month)
        if used.get(month, 0) + sum(draw.tokens) <= cap:
            used[month] = used.get(month, 0) + sum(draw.tokens)
            kept.append(draw)
    return kept
