import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.demo.factories import ENGINES, HEAVY, IDLE, LIGHT, SUBJECTS, make_subject
from tokengate.demo.history import (
    HISTORY_DAYS,
    PAST_MONTH_CAP_PERCENT,
    build_history,
    fit_tokens,
    history_start,
    poisson,
)

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
# a Free-plan user near the limit: few requests a month, so chance alone could pass the limit
TINY_HEAVY = make_subject("tiny@x.demo", user_id=4, limit=100_000, percent=95, engines=ENGINES[:1])


def month_tokens(records, *, user_id: int, since: datetime) -> int:
    return sum(
        r.input_tokens + r.output_tokens
        for r in records
        if r.user_id == user_id and r.created_at >= since
    )


@pytest.mark.parametrize("total", [0, 1, 7, 999, 95_000, 9_500_000])
def test_fit_tokens_hits_the_total(total):
    rng = random.Random(total)
    pairs = [
        (rng.randint(300, 2_000), rng.randint(500, 2_500)) for _ in range(max(1, total // 2_500))
    ]
    fitted = fit_tokens(pairs, total=total)
    assert len(fitted) == len(pairs)
    assert sum(i + o for i, o in fitted) == total
    assert all(i >= 0 and o >= 0 for i, o in fitted)


def test_fit_tokens_keeps_the_shape_when_close():
    pairs = [(1_000, 2_000), (500, 500)]
    assert fit_tokens(pairs, total=4_001) == [(1_000, 2_001), (500, 500)]
    assert fit_tokens([], total=0) == []
    with pytest.raises(ValueError, match="no requests"):
        fit_tokens([], total=5)


def test_poisson_means():
    rng = random.Random(4)
    for mean in (0.3, 4.0, 80.0):
        draws = [poisson(rng, mean) for _ in range(4_000)]
        assert abs(sum(draws) / len(draws) - mean) < 0.1 * mean + 0.05
        assert min(draws) >= 0


def test_history_is_deterministic():
    first = build_history(subjects=SUBJECTS, now=NOW, tz=SEOUL)
    second = build_history(subjects=SUBJECTS, now=NOW, tz=SEOUL)
    assert first == second
    assert len({r.request_id for r in first}) == len(first)


def test_this_month_lands_on_the_target():
    records = build_history(subjects=SUBJECTS, now=NOW, tz=SEOUL)
    since = datetime(2025, 2, 28, 15, 0, tzinfo=UTC)
    for s in SUBJECTS:
        assert month_tokens(records, user_id=s.user_id, since=since) == s.month_target
    assert HEAVY.month_target == 9_500_000
    assert LIGHT.month_target == 14_000
    assert not [r for r in records if r.user_id == IDLE.user_id]


def test_history_covers_ninety_days_and_nothing_later():
    records = build_history(subjects=SUBJECTS, now=NOW, tz=SEOUL)
    start = history_start(now=NOW, tz=SEOUL)
    assert start == datetime(2024, 12, 14, 15, 0, tzinfo=UTC)
    assert NOW - start < timedelta(days=HISTORY_DAYS)
    assert all(start <= r.created_at <= NOW for r in records)
    assert records == sorted(records, key=lambda r: (r.created_at, r.request_id))


def test_errors_carry_no_tokens():
    records = build_history(subjects=SUBJECTS, now=NOW, tz=SEOUL)
    errors = [r for r in records if r.status != "ok"]
    assert 0 < len(errors) < 0.05 * len(records)
    for r in errors:
        assert r.status == "upstream_error"
        assert r.http_status in {502, 503}
        assert (r.input_tokens, r.output_tokens, r.cost_micros) == (0, 0, 0)


def test_models_stay_within_the_plan():
    records = build_history(subjects=SUBJECTS, now=NOW, tz=SEOUL)
    assert {r.model for r in records if r.user_id == LIGHT.user_id} == {"C1"}
    assert {r.model for r in records if r.user_id == HEAVY.user_id} == {"C1", "C2", "C7"}


def test_a_month_that_just_began():
    now = datetime(2024, 12, 31, 15, 0, 0, 1, tzinfo=UTC)
    records = build_history(subjects=[HEAVY, LIGHT], now=now, tz=SEOUL)
    since = datetime(2024, 12, 31, 15, 0, tzinfo=UTC)
    for s in (HEAVY, LIGHT):
        assert month_tokens(records, user_id=s.user_id, since=since) == s.month_target
    assert all(r.created_at <= now for r in records)


def test_earlier_months_stay_under_the_limit():
    records = build_history(subjects=[HEAVY, LIGHT, TINY_HEAVY], now=NOW, tz=SEOUL)
    used: dict[tuple[int, int, int], int] = {}
    for r in records:
        local = r.created_at.astimezone(SEOUL)
        key = (r.user_id, local.year, local.month)
        used[key] = used.get(key, 0) + r.input_tokens + r.output_tokens
    limits = {s.user_id: s.monthly_token_limit for s in (HEAVY, LIGHT, TINY_HEAVY)}
    for (user_id, year, month), tokens in used.items():
        if (year, month) != (2025, 3):
            assert tokens <= limits[user_id] * PAST_MONTH_CAP_PERCENT // 100
    assert used[TINY_HEAVY.user_id, 2025, 2] > 0
