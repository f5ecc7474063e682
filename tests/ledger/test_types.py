from __future__ import annotations

import pytest

from tests.ledger.factories import limit
from tokengate.ledger.types import Charge, Demand, SettleResult


def test_a_charge_reads_per_metric() -> None:
    charge = Charge(tokens=3, cost_micros=5, requests=1)
    assert [charge.of(m) for m in ("tokens", "cost", "requests")] == [3, 5, 1]
    with pytest.raises(ValueError, match="negative"):
        Charge(tokens=-1)


def test_output_cost_rounds_up_to_a_whole_micro() -> None:
    need = Demand(Charge(), output_micros_per_mtok=1500, max_output_tokens=10, min_output_tokens=0)
    assert [need.output_cost(n) for n in (0, 1, 666, 667, 1000, 1001)] == [0, 1, 1, 2, 2, 2]
    assert need.charge_for(1000) == Charge(tokens=1000, cost_micros=2, requests=0)


def test_bad_demands_and_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="price"):
        Demand(Charge(), output_micros_per_mtok=-1, max_output_tokens=1, min_output_tokens=0)
    with pytest.raises(ValueError, match="min_output"):
        Demand(Charge(), output_micros_per_mtok=0, max_output_tokens=1, min_output_tokens=2)
    with pytest.raises(ValueError, match="ceiling"):
        limit(1, amount=10, ceiling=11)
    with pytest.raises(ValueError, match="ceiling"):
        limit(1, amount=-1)
    with pytest.raises(ValueError, match="thresholds"):
        limit(1, thresholds=(0,))


def test_only_a_settled_result_charged() -> None:
    assert SettleResult("settled").charged
    assert not SettleResult("already_settled").charged
    assert not SettleResult("unknown").charged
