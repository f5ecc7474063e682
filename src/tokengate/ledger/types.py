"""Values the ledger takes and returns; every amount is an integer in its metric's unit.

Units: ``tokens`` counts tokens, ``cost`` counts micro-units of the tenant's currency,
``requests`` counts requests. Output prices are carried per million tokens
(``Demand.output_micros_per_mtok``) so that fractional per-token prices stay exact; the cost of
``n`` output tokens is ``ceil(n * price / 1_000_000)`` micros (rounded up: a reservation never
falls short of what it stands for).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Metric = Literal["tokens", "cost", "requests"]
Window = Literal["minute", "day", "week", "month", "quarter", "year", "lifetime"]
Mode = Literal["block", "overage", "alert_only"]
SettleStatus = Literal["settled", "already_settled", "unknown"]

MICROS_PER_MTOK_SCALE = 1_000_000
DEFAULT_THRESHOLDS = (80, 90, 100)


@dataclass(frozen=True, slots=True)
class Charge:
    """An amount of usage in all three metrics."""

    tokens: int = 0
    cost_micros: int = 0
    requests: int = 0

    def __post_init__(self) -> None:
        if min(self.tokens, self.cost_micros, self.requests) < 0:
            raise ValueError(f"a charge cannot be negative: {self}")

    def of(self, metric: Metric) -> int:
        """Return the part of this charge a limit on ``metric`` counts."""
        if metric == "tokens":
            return self.tokens
        if metric == "cost":
            return self.cost_micros
        return self.requests


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """One limit that applies to a request, as the quota service resolved it."""

    limit_id: int
    tenant_id: int
    metric: Metric
    window: Window
    timezone: str
    amount: int
    ceiling: int
    mode: Mode
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS

    def __post_init__(self) -> None:
        if not 0 <= self.ceiling <= self.amount:
            raise ValueError(f"limit {self.limit_id}: need 0 <= ceiling <= amount")
        if any(t <= 0 for t in self.thresholds):
            raise ValueError(f"limit {self.limit_id}: thresholds are positive percentages")


@dataclass(frozen=True, slots=True)
class Demand:
    """What a request asks for: a fixed part plus up to ``max_output_tokens`` output tokens."""

    fixed: Charge
    output_micros_per_mtok: int
    max_output_tokens: int
    min_output_tokens: int

    def __post_init__(self) -> None:
        if self.output_micros_per_mtok < 0:
            raise ValueError("the output price cannot be negative")
        if not 0 <= self.min_output_tokens <= self.max_output_tokens:
            raise ValueError("need 0 <= min_output_tokens <= max_output_tokens")

    def output_cost(self, output_tokens: int) -> int:
        """Return the cost in micros of ``output_tokens`` output tokens, rounded up."""
        return -(-output_tokens * self.output_micros_per_mtok // MICROS_PER_MTOK_SCALE)

    def charge_for(self, output_tokens: int) -> Charge:
        """Return the whole charge of this request with ``output_tokens`` output tokens."""
        return Charge(
            tokens=self.fixed.tokens + output_tokens,
            cost_micros=self.fixed.cost_micros + self.output_cost(output_tokens),
            requests=self.fixed.requests,
        )


@dataclass(frozen=True, slots=True)
class ReservedAmount:
    """What one reservation holds on one limit's counter."""

    limit_id: int
    window_start: datetime
    amount: int


@dataclass(frozen=True, slots=True)
class CounterReading:
    """One limit's counter as a reservation left it (that reservation's hold included)."""

    limit_id: int
    used: int
    reserved: int
    window_end: datetime


@dataclass(frozen=True, slots=True)
class Reservation:
    """An admitted request: its output cap and what it holds until settled or swept.

    ``counters`` are the counters of its checks just after it was made, read in the same atomic
    step; empty when the backend handed back a reservation made earlier under the same id. A
    reading, not part of the reservation: two reservations compare equal whatever they read.
    """

    request_id: str
    output_tokens: int
    charge: Charge
    reserved: tuple[ReservedAmount, ...]
    deadline: datetime
    counters: tuple[CounterReading, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Denial:
    """The limit that refused a request and why.

    ``rolling`` refusals free up by themselves (429 with ``retry_after`` seconds); calendar and
    lifetime refusals do not within the period (403 quota exceeded). ``needed`` is the least the
    request needs on this limit (fixed part plus ``min_output_tokens``); ``resets_at`` is when the
    window ends, or for a rolling window when enough of it has expired for ``needed`` to fit
    (``None`` for lifetime limits).
    """

    limit_id: int
    metric: Metric
    window: Window
    amount: int
    ceiling: int
    used: int
    reserved: int
    needed: int
    resets_at: datetime | None
    rolling: bool
    retry_after: int | None


@dataclass(frozen=True, slots=True)
class ThresholdCrossing:
    """A settle that lifted a limit's usage to or past ``threshold`` percent of its amount."""

    limit_id: int
    window_start: datetime
    threshold: int
    used: int
    amount: int


@dataclass(frozen=True, slots=True)
class OverageAmount:
    """The part of one settle's usage that went past an overage-mode limit's amount."""

    limit_id: int
    window_start: datetime
    amount: int


@dataclass(frozen=True, slots=True)
class SettleResult:
    """What a settle did: whether it charged, thresholds it crossed, overage it recorded."""

    status: SettleStatus
    crossed: tuple[ThresholdCrossing, ...] = ()
    overage: tuple[OverageAmount, ...] = ()

    @property
    def charged(self) -> bool:
        """Whether this call added usage to the counters."""
        return self.status == "settled"


@dataclass(frozen=True, slots=True)
class LimitState:
    """A limit's counter as the ledger holds it now."""

    limit_id: int
    window_start: datetime
    window_end: datetime
    used: int
    reserved: int
    overage: int
    amount: int
