from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.routing.factories import FakeClock, make_deployments, trip
from tokengate.routing import Balancer, BreakerRegistry, BreakerState, Deployment, Strategy


def make_balancer(*weights: int, strategy: Strategy = "weighted") -> Balancer:
    return Balancer(
        deployments=make_deployments(*weights),
        breakers=BreakerRegistry(clock=FakeClock()),
        strategy=strategy,
    )


def pick_ids(balancer: Balancer, count: int, exclude: frozenset[int] = frozenset()) -> list[int]:
    picks = [balancer.pick(exclude=exclude) for _ in range(count)]
    return [deployment.id for deployment in picks if deployment is not None]


def test_weight_must_be_positive() -> None:
    with pytest.raises(ValueError, match="weight"):
        Deployment(id=1, weight=0, key="k")


def test_deployment_ids_must_be_unique() -> None:
    deployments = [Deployment(id=1, weight=1, key="a"), Deployment(id=1, weight=2, key="b")]
    with pytest.raises(ValueError, match="duplicate"):
        Balancer(deployments=deployments, breakers=BreakerRegistry(clock=FakeClock()))


def test_weighted_is_smooth_like_nginx() -> None:
    balancer = make_balancer(5, 1, 1)
    assert pick_ids(balancer, 7) == [1, 1, 2, 1, 3, 1, 1]


@pytest.mark.parametrize("weights", [(5, 3, 2), (1, 3), (1, 1, 1, 1, 1), (7, 1, 2)])
def test_weighted_shares_are_exactly_proportional_over_1000_picks(
    weights: tuple[int, ...],
) -> None:
    balancer = make_balancer(*weights)
    counts = Counter(pick_ids(balancer, 1000))
    total = sum(weights)
    assert counts == {index: 1000 * w // total for index, w in enumerate(weights, start=1)}


def test_every_cycle_of_total_weight_picks_is_exact() -> None:
    balancer = make_balancer(4, 2, 1)
    picks = pick_ids(balancer, 7 * 50)
    for start in range(0, len(picks), 7):
        assert Counter(picks[start : start + 7]) == {1: 4, 2: 2, 3: 1}


def test_weighted_skips_open_breakers_and_shares_among_the_rest() -> None:
    balancer = make_balancer(5, 3, 2)
    trip(balancer.breaker(balancer.deployments[0]))
    counts = Counter(pick_ids(balancer, 1000))
    assert counts == {2: 600, 3: 400}


def test_excluded_deployments_are_never_picked() -> None:
    balancer = make_balancer(5, 3, 2)
    assert set(pick_ids(balancer, 100, exclude=frozenset({1, 3}))) == {2}
    assert balancer.pick(exclude=frozenset({1, 2, 3})) is None


def test_pick_returns_none_when_every_breaker_is_open() -> None:
    balancer = make_balancer(1, 1)
    for deployment in balancer.deployments:
        trip(balancer.breaker(deployment))
    assert balancer.pick() is None


def test_an_empty_balancer_picks_nothing() -> None:
    assert make_balancer().pick() is None


def test_least_busy_takes_the_fewest_in_flight() -> None:
    balancer = make_balancer(1, 1, 1, strategy="least_busy")
    one, two, three = balancer.deployments
    leases = [balancer.acquire(one), balancer.acquire(one), balancer.acquire(two)]
    assert balancer.pick() == three
    leases.append(balancer.acquire(three))
    assert balancer.pick() == two
    for lease in leases:
        lease.release()
    assert [balancer.in_flight(d) for d in balancer.deployments] == [0, 0, 0]


def test_least_busy_breaks_ties_by_weight_then_id() -> None:
    balancer = make_balancer(1, 3, 3, strategy="least_busy")
    one, two, three = balancer.deployments
    assert balancer.pick() == two
    with balancer.acquire(two):
        assert balancer.pick() == three
        with balancer.acquire(three):
            assert balancer.pick() == one
    assert balancer.pick() == two


def test_least_busy_skips_open_breakers() -> None:
    balancer = make_balancer(1, 1, strategy="least_busy")
    one, two = balancer.deployments
    trip(balancer.breaker(one))
    with balancer.acquire(two), balancer.acquire(two):
        assert balancer.pick() == two


def test_only_the_chosen_half_open_deployment_spends_its_probe() -> None:
    clock = FakeClock()
    registry = BreakerRegistry(clock=clock)
    balancer = Balancer(
        deployments=make_deployments(1, 1), breakers=registry, strategy="least_busy"
    )
    one, two = balancer.deployments
    trip(registry.get(one.id))
    trip(registry.get(two.id))
    clock.advance(30)
    assert balancer.pick() == one
    assert registry.get(two.id).available, "the probe slot of the other one is still free"
    assert balancer.pick() == two
    assert balancer.pick() is None
    assert registry.get(one.id).state is BreakerState.HALF_OPEN


def test_a_lease_releases_once_even_when_the_block_raises() -> None:
    balancer = make_balancer(1)
    (deployment,) = balancer.deployments
    with pytest.raises(RuntimeError), balancer.acquire(deployment) as lease:
        assert balancer.in_flight(deployment) == 1
        raise RuntimeError
    assert balancer.in_flight(deployment) == 0
    lease.release()
    assert balancer.in_flight(deployment) == 0


def test_acquire_refuses_a_foreign_deployment() -> None:
    balancer = make_balancer(1)
    with pytest.raises(ValueError, match="not one of"):
        balancer.acquire(Deployment(id=1, weight=2, key="other"))


@settings(max_examples=300)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=10), max_size=8),
    open_ids=st.sets(st.integers(min_value=1, max_value=8)),
    exclude=st.frozensets(st.integers(min_value=1, max_value=8)),
    strategy=st.sampled_from(["weighted", "least_busy"]),
    picks=st.integers(min_value=1, max_value=30),
)
def test_never_picks_an_excluded_or_open_deployment(
    weights: list[int],
    open_ids: set[int],
    exclude: frozenset[int],
    strategy: Strategy,
    picks: int,
) -> None:
    balancer = make_balancer(*weights, strategy=strategy)
    for deployment_id in open_ids & set(range(1, len(weights) + 1)):
        trip(balancer.breaker(balancer.deployments[deployment_id - 1]))
    allowed = {d.id for d in balancer.deployments} - open_ids - exclude
    for _ in range(picks):
        deployment = balancer.pick(exclude=exclude)
        if deployment is None:
            assert not allowed
        else:
            assert deployment.id in allowed
            assert balancer.breaker(deployment).state is BreakerState.CLOSED
