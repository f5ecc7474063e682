"""Test doubles for routing: a hand-driven clock and small builders."""

from __future__ import annotations

from tokengate.routing import BreakerState, CircuitBreaker, Deployment


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_deployments(*weights: int) -> list[Deployment]:
    """Deployments with ids 1, 2, ... and the given weights."""
    return [
        Deployment(id=index, weight=weight, key=f"dep-{index}")
        for index, weight in enumerate(weights, start=1)
    ]


def trip(breaker: CircuitBreaker) -> None:
    """Open a closed breaker with consecutive failures."""
    while breaker.state is not BreakerState.OPEN:
        breaker.record_failure()
