from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tests.ledger.factories import limit
from tokengate.ledger.rules import (
    CounterView,
    admit,
    crossed_thresholds,
    output_fit,
    overage_of,
    plan_slots,
    rolling_reset,
)
from tokengate.ledger.types import Charge, Demand, Denial, Metric

NOW = datetime(2031, 3, 1, 12, tzinfo=UTC)
SECOND = int(NOW.timestamp())


@given(
    metric=st.sampled_from(["tokens", "cost", "requests"]),
    room=st.integers(-5, 3000),
    prompt=st.integers(0, 50),
    prompt_cost=st.integers(0, 50),
    price=st.sampled_from([0, 1, 999, 1500, 10**6, 2_500_000, 7 * 10**7]),
    max_out=st.integers(0, 400),
)
def test_the_grant_is_the_largest_output_that_fits(
    metric: Metric, room: int, prompt: int, prompt_cost: int, price: int, max_out: int
) -> None:
    need = Demand(Charge(prompt, prompt_cost, 1), price, max_out, 0)
    check = limit(1, metric=metric, amount=max(room, 0) + 10, ceiling=max(room, 0))
    view = CounterView(used=max(-room, 0), reserved=0)
    got = admit(slots=plan_slots([check], NOW), views=[view], demand=need, now=NOW)
    fitting = [n for n in range(max_out + 1) if need.charge_for(n).of(metric) <= room]
    if not fitting:
        assert isinstance(got, Denial)
    else:
        assert got == max(fitting)


def test_output_fit_reports_unbounded_and_impossible() -> None:
    need = Demand(Charge(10, 10, 1), 0, 100, 0)
    assert output_fit(metric="requests", room=1, demand=need) is None
    assert output_fit(metric="cost", room=10, demand=need) is None
    assert output_fit(metric="requests", room=0, demand=need) == -1
    assert output_fit(metric="tokens", room=15, demand=need) == 5


def test_rolling_reset_waits_for_enough_buckets() -> None:
    buckets = [(SECOND - 50, 100), (SECOND - 30, 100), (SECOND - 10, 100)]
    assert rolling_reset(buckets=buckets, ceiling=300, needed=100, now=NOW) == SECOND + 10
    assert rolling_reset(buckets=buckets, ceiling=300, needed=200, now=NOW) == SECOND + 30
    assert rolling_reset(buckets=buckets, ceiling=300, needed=301, now=NOW) == SECOND + 60
    assert rolling_reset(buckets=[], ceiling=0, needed=1, now=NOW) == SECOND + 60


def test_thresholds_count_from_the_rounded_up_mark() -> None:
    (slot,) = plan_slots([limit(1, amount=999, thresholds=(80, 100))], NOW)
    hold = slot.hold(0)
    assert crossed_thresholds(hold=hold, before=798, after=799) == []
    assert crossed_thresholds(hold=hold, before=799, after=800) == [80]
    assert crossed_thresholds(hold=hold, before=0, after=5000) == [80, 100]
    (rolling,) = plan_slots([limit(2, window="minute", amount=10)], NOW)
    assert crossed_thresholds(hold=rolling.hold(0), before=0, after=50) == []


def test_overage_counts_only_the_part_past_the_amount() -> None:
    (slot,) = plan_slots([limit(1, amount=100, mode="overage")], NOW)
    hold = slot.hold(0)
    assert overage_of(hold=hold, before=50, after=90) == 0
    assert overage_of(hold=hold, before=90, after=130) == 30
    assert overage_of(hold=hold, before=130, after=150) == 20
    (block,) = plan_slots([limit(1, amount=100)], NOW)
    assert overage_of(hold=block.hold(0), before=90, after=130) == 0
