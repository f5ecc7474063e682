"""Per-deployment circuit breakers: failing deployments leave rotation and come back by themselves.

    closed ──(N consecutive failures, or failure ratio over the window)──> open
    open ──(cooldown elapsed, noticed on the next look)──> half_open
    half_open ──(the one probe succeeds)──> closed      (counters and backoff reset)
    half_open ──(the one probe fails)──> open           (cooldown doubles, up to max_cooldown)

Single event loop, no locks: every method is synchronous, so no await can interleave inside one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Literal

Clock = Callable[[], float]
Reason = Literal[
    "failure_threshold",
    "failure_ratio",
    "cooldown_elapsed",
    "probe_succeeded",
    "probe_failed",
    "reset",
]
# 2**32 times any positive cooldown already exceeds any sane max_cooldown; it keeps floats finite
_MAX_DOUBLINGS = 32


class BreakerState(StrEnum):
    """Where a breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerConfig:
    """When a breaker opens, and for how long."""

    failure_threshold: int = 5
    window_size: int = 20
    min_samples: int = 10
    max_failure_ratio: float = 0.5
    cooldown: float = 30.0
    max_cooldown: float = 300.0
    probe_timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if not 1 <= self.min_samples <= self.window_size:
            raise ValueError("min_samples must be between 1 and window_size")
        if not 0.0 <= self.max_failure_ratio < 1.0:
            raise ValueError("max_failure_ratio must be in [0, 1)")
        if not 0.0 < self.cooldown <= self.max_cooldown:
            raise ValueError("cooldown must be positive and at most max_cooldown")
        if self.probe_timeout <= 0.0:
            raise ValueError("probe_timeout must be positive")


@dataclass(frozen=True)
class StateChange:
    """One transition, as passed to a breaker's listener."""

    previous: BreakerState
    current: BreakerState
    reason: Reason
    at: float


@dataclass(frozen=True)
class BreakerSnapshot:
    """A breaker's state for the admin API."""

    state: BreakerState
    consecutive_failures: int
    failure_ratio: float
    samples: int
    opened_at: float | None
    opened_until: float | None
    reopen_count: int


Listener = Callable[[StateChange], None]


class CircuitBreaker:
    """Takes one deployment out of rotation while it keeps failing."""

    def __init__(
        self,
        *,
        clock: Clock,
        config: BreakerConfig | None = None,
        listener: Listener | None = None,
    ) -> None:
        self._clock = clock
        self._config = config or BreakerConfig()
        self._listener = listener
        self._state = BreakerState.CLOSED
        self._outcomes: deque[bool] = deque(maxlen=self._config.window_size)
        self._consecutive = 0
        self._opened_at: float | None = None
        self._opened_until = 0.0
        self._reopen_count = 0
        self._probe_since: float | None = None

    @property
    def state(self) -> BreakerState:
        """Return the current state (an elapsed cooldown turns open into half_open here)."""
        self._refresh()
        return self._state

    @property
    def opened_until(self) -> float | None:
        """Return when the current open period ends, on the injected clock; None unless open."""
        return self._opened_until if self.state is BreakerState.OPEN else None

    @property
    def available(self) -> bool:
        """Tell whether ``allow()`` would let a request through now, without claiming anything."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        return state is BreakerState.HALF_OPEN and not self._probe_claimed()

    def allow(self) -> bool:
        """Let a request through, claiming the single probe slot when half-open."""
        if not self.available:
            return False
        if self._state is BreakerState.HALF_OPEN:
            self._probe_since = self._clock()
        return True

    def record_success(self) -> None:
        """Count a success; in half_open it closes the breaker."""
        state = self.state
        if state is BreakerState.CLOSED:
            self._consecutive = 0
            self._outcomes.append(True)
        elif state is BreakerState.HALF_OPEN:
            self._close("probe_succeeded")

    def record_failure(self) -> None:
        """Count a failure; it may open the breaker, and in half_open it re-opens it."""
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._reopen_count += 1
            self._open("probe_failed")
        elif state is BreakerState.CLOSED:
            self._consecutive += 1
            self._outcomes.append(False)
            if self._consecutive >= self._config.failure_threshold:
                self._open("failure_threshold")
            elif self._ratio_exceeded():
                self._open("failure_ratio")

    def release(self) -> None:
        """End a let-through request that says nothing about health (cancelled, client error)."""
        self._probe_since = None

    def reset(self) -> None:
        """Close the breaker by hand (an operator's decision), forgetting all history."""
        if self.state is not BreakerState.CLOSED:
            self._close("reset")

    def snapshot(self) -> BreakerSnapshot:
        """Return the state and counters, for the admin API."""
        state = self.state
        samples = len(self._outcomes)
        return BreakerSnapshot(
            state=state,
            consecutive_failures=self._consecutive,
            failure_ratio=self._failures() / samples if samples else 0.0,
            samples=samples,
            opened_at=self._opened_at,
            opened_until=self._opened_until if state is BreakerState.OPEN else None,
            reopen_count=self._reopen_count,
        )

    def _refresh(self) -> None:
        if self._state is BreakerState.OPEN and self._clock() >= self._opened_until:
            self._probe_since = None
            self._transition(BreakerState.HALF_OPEN, "cooldown_elapsed")

    def _probe_claimed(self) -> bool:
        # a probe whose outcome never came back (a caller forgot release()) expires
        if self._probe_since is None:
            return False
        return self._clock() - self._probe_since < self._config.probe_timeout

    def _failures(self) -> int:
        return self._outcomes.count(False)

    def _ratio_exceeded(self) -> bool:
        samples = len(self._outcomes)
        if samples < self._config.min_samples:
            return False
        return self._failures() / samples > self._config.max_failure_ratio

    def _open(self, reason: Reason) -> None:
        config = self._config
        doublings = min(self._reopen_count, _MAX_DOUBLINGS)
        cooldown = min(config.cooldown * 2.0**doublings, config.max_cooldown)
        now = self._clock()
        self._opened_at = now
        self._opened_until = now + cooldown
        self._probe_since = None
        self._transition(BreakerState.OPEN, reason)

    def _close(self, reason: Reason) -> None:
        self._consecutive = 0
        self._outcomes.clear()
        self._reopen_count = 0
        self._opened_at = None
        self._probe_since = None
        self._transition(BreakerState.CLOSED, reason)

    def _transition(self, state: BreakerState, reason: Reason) -> None:
        previous, self._state = self._state, state
        # the new state is in place first, so a listener that raises leaves the breaker consistent
        if self._listener is not None and previous is not state:
            self._listener(
                StateChange(previous=previous, current=state, reason=reason, at=self._clock())
            )


class BreakerRegistry:
    """One breaker per deployment id, created on first use; outlives configuration reloads."""

    def __init__(
        self,
        *,
        clock: Clock,
        config: BreakerConfig | None = None,
        listener: Callable[[int, StateChange], None] | None = None,
    ) -> None:
        self._clock = clock
        self._config = config or BreakerConfig()
        self._listener = listener
        self._breakers: dict[int, CircuitBreaker] = {}

    def get(self, deployment_id: int) -> CircuitBreaker:
        """Return the breaker of a deployment, creating a closed one the first time."""
        breaker = self._breakers.get(deployment_id)
        if breaker is None:
            listener = None if self._listener is None else partial(self._listener, deployment_id)
            breaker = CircuitBreaker(clock=self._clock, config=self._config, listener=listener)
            self._breakers[deployment_id] = breaker
        return breaker

    def snapshots(self) -> dict[int, BreakerSnapshot]:
        """Return every known breaker's snapshot, by deployment id."""
        return {key: breaker.snapshot() for key, breaker in sorted(self._breakers.items())}

    def forget(self, deployment_id: int) -> None:
        """Drop the breaker of a deleted deployment."""
        self._breakers.pop(deployment_id, None)
