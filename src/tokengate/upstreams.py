"""Which deployment serves a request: one balancer per model over one process-wide set of
circuit breakers (a breaker's state is this process's view of its deployment)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import structlog

from tokengate.catalog.schemas import Route
from tokengate.errors import (
    TokengateError,
    UpstreamStatus,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tokengate.routing import (
    Balancer,
    BreakerConfig,
    BreakerRegistry,
    Deployment,
    Failure,
    RetryPolicy,
    StateChange,
)

log = structlog.get_logger()


class Upstreams:
    """The breakers and balancers of one gateway process."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[int, str], None] | None = None,
        breaker: BreakerConfig | None = None,
    ) -> None:
        self._on_change = on_change
        self.breakers = BreakerRegistry(clock=clock, config=breaker, listener=self._changed)
        self._balancers: dict[str, tuple[object, Balancer]] = {}
        # full jitter spreads retries of many requests failing together
        self.policy = RetryPolicy(jitter=random.random)

    def balancer(self, route: Route) -> Balancer:
        """The model's balancer, rebuilt when its deployments or strategy changed."""
        shape = (route.routing, tuple((u.id, u.weight) for u in route.upstreams))
        cached = self._balancers.get(route.name)
        if cached is not None and cached[0] == shape:
            return cached[1]
        balancer = Balancer(
            deployments=[
                Deployment(id=u.id, weight=u.weight, key=str(u.id)) for u in route.upstreams
            ],
            breakers=self.breakers,
            strategy="least_busy" if route.routing == "least_busy" else "weighted",
        )
        self._balancers[route.name] = (shape, balancer)
        return balancer

    def circuits(self) -> dict[int, str]:
        """Each known deployment's breaker state."""
        return {ident: snap.state.value for ident, snap in self.breakers.snapshots().items()}

    def _changed(self, deployment: int, change: StateChange) -> None:
        log.warning(
            "circuit breaker",
            deployment=deployment,
            state=change.current.value,
            reason=change.reason,
        )
        if self._on_change is not None:
            self._on_change(deployment, change.current.value)


def classify(error: TokengateError) -> Failure | None:
    """Which provider failures another attempt may cure (none after the first byte)."""
    if isinstance(error, UpstreamUnavailable):
        return Failure(kind="connect")
    if isinstance(error, UpstreamTimeout):
        return Failure(kind="timeout")
    if isinstance(error, UpstreamStatus):
        return Failure(kind="status", status=error.upstream_status)
    return None
