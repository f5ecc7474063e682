from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.routing.factories import FakeClock, trip
from tokengate.routing import (
    BreakerConfig,
    BreakerRegistry,
    BreakerSnapshot,
    BreakerState,
    CircuitBreaker,
    StateChange,
)

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


def make_breaker(
    clock: FakeClock,
    changes: list[StateChange] | None = None,
    *,
    config: BreakerConfig | None = None,
) -> CircuitBreaker:
    listener = None if changes is None else changes.append
    return CircuitBreaker(clock=clock, config=config, listener=listener)


def test_opens_after_consecutive_failures() -> None:
    clock, changes = FakeClock(), list[StateChange]()
    breaker = make_breaker(clock, changes)
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state is CLOSED
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is OPEN
    assert not breaker.allow()
    assert not breaker.available
    assert breaker.opened_until == clock.now + 30
    assert changes == [
        StateChange(previous=CLOSED, current=OPEN, reason="failure_threshold", at=1000)
    ]


def test_a_success_resets_the_consecutive_count() -> None:
    breaker = make_breaker(FakeClock())
    for _ in range(4):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state is CLOSED
    assert breaker.snapshot().consecutive_failures == 4


def test_opens_when_the_failure_ratio_exceeds_the_threshold() -> None:
    changes: list[StateChange] = []
    breaker = make_breaker(FakeClock(), changes)
    # F F S repeated: never 5 in a row, 2/3 of the window failed
    pattern = [False, False, True] * 3
    for ok in pattern:
        if ok:
            breaker.record_success()
        else:
            breaker.record_failure()
    assert breaker.state is CLOSED, "9 samples are below min_samples"
    breaker.record_failure()
    assert breaker.state is OPEN
    assert changes[-1].reason == "failure_ratio"


def test_a_ratio_of_exactly_the_threshold_does_not_open() -> None:
    breaker = make_breaker(FakeClock())
    for _ in range(30):
        breaker.record_success()
        breaker.record_failure()
    snapshot = breaker.snapshot()
    assert snapshot.state is CLOSED
    assert (snapshot.samples, snapshot.failure_ratio) == (20, 0.5)


def test_the_window_forgets_old_outcomes() -> None:
    breaker = make_breaker(FakeClock(), config=BreakerConfig(window_size=10, min_samples=10))
    for _ in range(4):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(4):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(10):
        breaker.record_success()
    assert breaker.snapshot().failure_ratio == 0.0
    breaker.record_failure()
    assert breaker.snapshot().failure_ratio == pytest.approx(0.1)


def test_half_open_after_cooldown_lets_exactly_one_probe_through() -> None:
    clock, changes = FakeClock(), list[StateChange]()
    breaker = make_breaker(clock, changes)
    trip(breaker)
    clock.advance(29.9)
    assert breaker.state is OPEN
    clock.advance(0.1)
    assert breaker.state is HALF_OPEN
    assert breaker.opened_until is None
    assert changes[-1] == StateChange(
        previous=OPEN, current=HALF_OPEN, reason="cooldown_elapsed", at=1030
    )
    # (available, allow(), available, allow()) in that order: the first allow() claims the probe
    assert (breaker.available, breaker.allow(), breaker.available, breaker.allow()) == (
        True,
        True,
        False,
        False,
    )


def test_a_probe_success_closes_and_resets() -> None:
    clock, changes = FakeClock(), list[StateChange]()
    breaker = make_breaker(clock, changes)
    trip(breaker)
    clock.advance(30)
    assert breaker.allow()
    breaker.record_success()
    assert changes[-1].reason == "probe_succeeded"
    assert breaker.snapshot() == BreakerSnapshot(
        state=CLOSED,
        consecutive_failures=0,
        failure_ratio=0.0,
        samples=0,
        opened_at=None,
        opened_until=None,
        reopen_count=0,
    )
    assert breaker.allow()
    assert breaker.allow()


def test_probe_failures_reopen_with_doubling_cooldowns_up_to_the_max() -> None:
    clock, changes = FakeClock(), list[StateChange]()
    breaker = make_breaker(clock, changes)
    trip(breaker)
    cooldowns = []
    for _ in range(6):
        until = breaker.opened_until
        assert until is not None
        cooldowns.append(until - clock.now)
        clock.now = until
        assert breaker.allow()
        breaker.record_failure()
    assert cooldowns == [30, 60, 120, 240, 300, 300]
    assert breaker.snapshot().reopen_count == 6
    assert [change.reason for change in changes[1:3]] == ["cooldown_elapsed", "probe_failed"]


def test_a_new_trip_after_closing_starts_from_the_base_cooldown() -> None:
    clock = FakeClock()
    breaker = make_breaker(clock)
    trip(breaker)
    clock.advance(30)
    breaker.allow()
    breaker.record_failure()
    clock.advance(60)
    breaker.allow()
    breaker.record_success()
    trip(breaker)
    assert breaker.opened_until == clock.now + 30


def test_release_frees_the_probe_slot() -> None:
    clock = FakeClock()
    breaker = make_breaker(clock)
    trip(breaker)
    clock.advance(30)
    assert breaker.allow()
    breaker.release()
    assert breaker.state is HALF_OPEN
    assert breaker.allow()


def test_a_forgotten_probe_expires() -> None:
    clock = FakeClock()
    breaker = make_breaker(clock, config=BreakerConfig(probe_timeout=10))
    trip(breaker)
    clock.advance(30)
    assert breaker.allow()
    clock.advance(9.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.allow()


def test_outcomes_while_open_are_ignored() -> None:
    clock, changes = FakeClock(), list[StateChange]()
    breaker = make_breaker(clock, changes)
    trip(breaker)
    until = breaker.opened_until
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is OPEN
    assert breaker.opened_until == until
    assert len(changes) == 1


def test_reset_closes_by_hand() -> None:
    clock, changes = FakeClock(), list[StateChange]()
    breaker = make_breaker(clock, changes)
    breaker.reset()
    assert changes == []
    trip(breaker)
    breaker.reset()
    assert breaker.state is CLOSED
    assert changes[-1].reason == "reset"
    assert breaker.allow()


def test_snapshot_while_open() -> None:
    clock = FakeClock()
    breaker = make_breaker(clock)
    breaker.record_success()
    trip(breaker)
    assert breaker.snapshot() == BreakerSnapshot(
        state=OPEN,
        consecutive_failures=5,
        failure_ratio=5 / 6,
        samples=6,
        opened_at=1000,
        opened_until=1030,
        reopen_count=0,
    )


def test_a_raising_listener_leaves_the_breaker_consistent() -> None:
    def explode(change: StateChange) -> None:
        raise RuntimeError(change.reason)

    breaker = CircuitBreaker(clock=FakeClock(), listener=explode)
    for _ in range(4):
        breaker.record_failure()
    with pytest.raises(RuntimeError, match="failure_threshold"):
        breaker.record_failure()
    assert breaker.state is OPEN


@pytest.mark.parametrize(
    "build",
    [
        lambda: BreakerConfig(failure_threshold=0),
        lambda: BreakerConfig(min_samples=0),
        lambda: BreakerConfig(min_samples=21),
        lambda: BreakerConfig(max_failure_ratio=1.0),
        lambda: BreakerConfig(max_failure_ratio=-0.1),
        lambda: BreakerConfig(cooldown=0),
        lambda: BreakerConfig(cooldown=301),
        lambda: BreakerConfig(probe_timeout=0),
    ],
)
def test_config_is_validated(build: Callable[[], BreakerConfig]) -> None:
    with pytest.raises(ValueError):
        build()


def test_registry_keeps_one_breaker_per_deployment_and_names_it_to_the_listener() -> None:
    clock = FakeClock()
    changes: list[tuple[int, StateChange]] = []
    registry = BreakerRegistry(
        clock=clock,
        config=BreakerConfig(failure_threshold=1),
        listener=lambda deployment_id, change: changes.append((deployment_id, change)),
    )
    assert registry.get(7) is registry.get(7)
    registry.get(7).record_failure()
    registry.get(3).record_success()
    assert changes == [
        (7, StateChange(previous=CLOSED, current=OPEN, reason="failure_threshold", at=1000))
    ]
    assert [(key, snap.state) for key, snap in registry.snapshots().items()] == [
        (3, CLOSED),
        (7, OPEN),
    ]
    registry.forget(7)
    registry.forget(7)
    assert registry.get(7).state is CLOSED


def test_registry_without_listener() -> None:
    registry = BreakerRegistry(clock=FakeClock())
    trip(registry.get(1))
    assert registry.snapshots()[1].state is OPEN
