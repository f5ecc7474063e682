"""Choosing one deployment of a model per request, skipping those whose breaker holds it back.

``weighted`` is nginx's smooth weighted round-robin: each pick adds every eligible deployment's
weight to its running score, takes the highest score (lowest id on a tie) and subtracts the
eligible total from it. With a fixed eligible set, every run of ``sum(weights)`` picks gives each
deployment exactly ``weight`` of them, spread out rather than in bursts. Excluded and unavailable
deployments neither score nor count toward the total, as nginx does with down or tried peers.

``least_busy`` takes the fewest requests in flight, then the higher weight, then the lower id.

Only the chosen deployment's breaker is asked to ``allow()``: asking the others would claim the
single probe slot of a half-open breaker for a request that never goes there.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import Literal

from tokengate.routing.breaker import BreakerRegistry, CircuitBreaker

Strategy = Literal["weighted", "least_busy"]


@dataclass(frozen=True)
class Deployment:
    """One upstream that serves a model; ``key`` is opaque to routing."""

    id: int
    weight: int
    key: str

    def __post_init__(self) -> None:
        if self.weight < 1:
            raise ValueError(f"deployment {self.id}: weight must be at least 1")


class Lease:
    """One request in flight on a deployment; releasing it twice is harmless."""

    def __init__(self, *, counts: dict[int, int], deployment: Deployment) -> None:
        self._counts = counts
        self.deployment = deployment
        self._released = False
        counts[deployment.id] += 1

    def release(self) -> None:
        """Stop counting this request as in flight."""
        if not self._released:
            self._released = True
            self._counts[self.deployment.id] -= 1

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class Balancer:
    """Spreads one model's requests over its deployments."""

    def __init__(
        self,
        *,
        deployments: Sequence[Deployment],
        breakers: BreakerRegistry,
        strategy: Strategy = "weighted",
    ) -> None:
        ids = [deployment.id for deployment in deployments]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate deployment ids: {sorted(ids)}")
        self._deployments = tuple(sorted(deployments, key=lambda deployment: deployment.id))
        self._by_id = {deployment.id: deployment for deployment in self._deployments}
        self._breakers = breakers
        self._strategy = strategy
        self._scores = dict.fromkeys(ids, 0)
        self._in_flight = dict.fromkeys(ids, 0)

    @property
    def deployments(self) -> tuple[Deployment, ...]:
        """Return the deployments, by id."""
        return self._deployments

    def breaker(self, deployment: Deployment) -> CircuitBreaker:
        """Return the breaker that guards a deployment."""
        return self._breakers.get(deployment.id)

    def in_flight(self, deployment: Deployment) -> int:
        """Return how many requests are in flight on a deployment."""
        return self._in_flight[deployment.id]

    def pick(self, *, exclude: Set[int] = frozenset()) -> Deployment | None:
        """Choose a deployment not in ``exclude`` whose breaker lets the request through."""
        eligible = [
            deployment
            for deployment in self._deployments
            if deployment.id not in exclude and self.breaker(deployment).available
        ]
        if not eligible:
            return None
        chosen = self._choose(eligible)
        # allow() claims the half-open probe slot; available just said it is free, and a
        # monotonic clock can only make a breaker more permissive in between
        if not self.breaker(chosen).allow():
            raise RuntimeError(f"breaker of deployment {chosen.id} refused after offering")
        return chosen

    def acquire(self, deployment: Deployment) -> Lease:
        """Count a request in flight until the returned lease is released (use ``with``)."""
        if self._by_id.get(deployment.id) != deployment:
            raise ValueError(f"deployment {deployment.id} is not one of this balancer's")
        return Lease(counts=self._in_flight, deployment=deployment)

    def _choose(self, eligible: list[Deployment]) -> Deployment:
        if self._strategy == "least_busy":
            return min(eligible, key=lambda d: (self._in_flight[d.id], -d.weight, d.id))
        total = 0
        for deployment in eligible:
            self._scores[deployment.id] += deployment.weight
            total += deployment.weight
        # max() keeps the first of equal scores, and eligible is sorted by id
        chosen = max(eligible, key=lambda deployment: self._scores[deployment.id])
        self._scores[chosen.id] -= total
        return chosen
