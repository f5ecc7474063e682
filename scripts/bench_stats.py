"""Percentiles and per-scenario summaries of the benchmark's latency samples."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

PERCENTILES = (50.0, 90.0, 99.0)


def percentile(values: Sequence[float], q: float) -> float:
    """Return the nearest-rank percentile: the smallest value with q % of values at or below it."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is outside (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Sample:
    """One request: when it was due, when it was sent, its first byte and its end (seconds)."""

    due: float
    sent: float
    first_byte: float
    done: float
    error: str | None = None

    @property
    def latency(self) -> float:
        """Seconds from when the request was due (not when it was sent) to its last byte."""
        return self.done - self.due

    @property
    def ttfb(self) -> float:
        """Seconds from when the request was due to its first body byte."""
        return self.first_byte - self.due


@dataclass(frozen=True)
class Summary:
    """What one scenario measured; latencies in milliseconds."""

    requests: int
    errors: int
    rate: float
    latency_ms: dict[str, float]
    ttfb_ms: dict[str, float]
    max_send_lag_ms: float
    error_kinds: dict[str, int] = field(default_factory=dict)


def summarize(samples: Sequence[Sample]) -> Summary:
    """Summarise a phase's samples: percentiles of successful requests, errors by kind."""
    good = [s for s in samples if s.error is None]
    kinds = Counter(s.error for s in samples if s.error is not None)
    span = max(s.done for s in samples) - min(s.due for s in samples) if samples else 0.0
    return Summary(
        requests=len(samples),
        errors=len(samples) - len(good),
        rate=len(good) / span if span > 0 else 0.0,
        latency_ms=_percentiles_ms([s.latency for s in good]),
        ttfb_ms=_percentiles_ms([s.ttfb for s in good]),
        max_send_lag_ms=max((s.sent - s.due for s in samples), default=0.0) * 1000,
        error_kinds=dict(sorted(kinds.items())),
    )


def _percentiles_ms(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    return {f"p{q:g}": percentile(values, q) * 1000 for q in PERCENTILES}
