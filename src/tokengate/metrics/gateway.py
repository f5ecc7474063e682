"""The gateway's Prometheus metrics, kept in a registry owned by one ``GatewayMetrics``.

Each process has its own registry, so with several uvicorn workers a scrape of ``/metrics``
sees only the worker that answered it. Start the server with ``PROMETHEUS_MULTIPROC_DIR``
pointing at an empty directory and build the metrics with ``GatewayMetrics.from_environment()``:
every worker then writes its values to files there and any worker renders the sum of all
(the circuit state shows the worst live worker). In that mode the process collectors (CPU,
memory, GC) are left out, as prometheus_client cannot aggregate them, and a worker must call
``close()`` on shutdown or its in-flight requests stay counted until the directory is wiped."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    values,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from tokengate.errors import ConfigError

LedgerDecision = Literal["admitted", "quota_exceeded", "rate_limited"]
LedgerOp = Literal["reserve", "settle"]
CircuitState = Literal["closed", "half_open", "open"]

LEDGER_DECISIONS: tuple[LedgerDecision, ...] = ("admitted", "quota_exceeded", "rate_limited")
LEDGER_OPS: tuple[LedgerOp, ...] = ("reserve", "settle")
# the gauge's value is the position: 0 closed, 1 half-open, 2 open
CIRCUIT_STATES: tuple[CircuitState, ...] = ("closed", "half_open", "open")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "__other__"

# histogram_quantile() interpolates inside the bucket holding the quantile, so a P95 or P99 is
# off by at most that bucket's width. A 1-1.5-2-3-5-7.5 ladder keeps each bucket within a factor
# of 5/3 of its lower bound. FAST reads 100 µs to 100 ms that finely (the gateway's own work:
# overhead and ledger operations), with coarse edges from 50 µs to 1 s. SLOW reads 50 ms to
# 300 s that finely (provider calls, first token), with edges from 25 ms to the 600 s timeout.
FAST_BUCKETS = (
    0.00005, 0.0001, 0.00015, 0.0002, 0.0003, 0.0005, 0.00075,
    0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075,
    0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
    0.1, 0.25, 0.5, 1.0,
)  # fmt: skip
SLOW_BUCKETS = (
    0.025, 0.05, 0.075,
    0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
    1.0, 1.5, 2.0, 3.0, 5.0, 7.5,
    10.0, 15.0, 20.0, 30.0, 50.0, 75.0,
    100.0, 150.0, 200.0, 300.0, 600.0,
)  # fmt: skip

_RequestKey = tuple[str, str, str, str, bool]


@dataclass(frozen=True, slots=True)
class _RequestSeries:
    """The children one label set of ``request_finished`` moves, looked up once."""

    requests: Counter
    input_tokens: Counter
    output_tokens: Counter
    cost: Counter
    duration: Histogram
    ttft: Histogram


class InFlight:
    """Counts the requests inside ``with``, awaits included; one instance serves all."""

    __slots__ = ("_gauge",)

    def __init__(self, gauge: Gauge) -> None:
        self._gauge = gauge

    def __enter__(self) -> None:
        self._gauge.inc()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._gauge.dec()


class GatewayMetrics:
    """The gateway's metrics in a registry of their own; build one per process."""

    def __init__(
        self,
        *,
        multiprocess_dir: str | None = None,
        max_tenants: int = 2000,
        max_models: int = 500,
    ) -> None:
        if multiprocess_dir is not None and not _values_are_shared():
            raise ConfigError(f"{MULTIPROC_ENV} must be set before the process starts.")
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        self._limits = {"tenant": max_tenants, "model": max_models}
        self._seen: dict[str, set[str]] = {"tenant": set(), "model": set()}
        self._request_series: dict[_RequestKey, _RequestSeries] = {}
        self._provider_errors: dict[tuple[str, str, str], Counter] = {}
        self._define()
        self._in_flight = InFlight(self._in_flight_gauge)
        self._decisions = {d: self._decision_counter.labels(d) for d in LEDGER_DECISIONS}
        self._ledger_ops = {op: self._ledger_histogram.labels(op) for op in LEDGER_OPS}
        if multiprocess_dir is None:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> GatewayMetrics:
        """Build the metrics, shared across workers when ``PROMETHEUS_MULTIPROC_DIR`` is set."""
        return cls(multiprocess_dir=environ.get(MULTIPROC_ENV) or None)

    def _define(self) -> None:
        r = self.registry
        self._requests = Counter(
            "tokengate_requests",
            "Requests served, by how they ended.",
            ["tenant", "model", "endpoint", "status"],
            registry=r,
        )
        self._tokens = Counter(
            "tokengate_tokens", "Tokens metered.", ["tenant", "model", "kind"], registry=r
        )
        self._cost = Counter(
            "tokengate_cost_micros",
            "Cost charged, in micro-units of the tenant currency.",
            ["tenant", "model"],
            registry=r,
        )
        self._overhead = Histogram(
            "tokengate_gateway_overhead_seconds",
            "Time the gateway adds to a request: total minus waiting on the provider.",
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self._ttft = Histogram(
            "tokengate_time_to_first_token_seconds",
            "Time from a streamed request's arrival to its first content event.",
            ["model"],
            buckets=SLOW_BUCKETS,
            registry=r,
        )
        self._duration = Histogram(
            "tokengate_request_duration_seconds",
            "Time from a request's arrival to its end.",
            ["model", "stream"],
            buckets=SLOW_BUCKETS,
            registry=r,
        )
        self._in_flight_gauge = Gauge(
            "tokengate_requests_in_flight",
            "Requests being served now.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self._decision_counter = Counter(
            "tokengate_ledger_decisions",
            "Ledger admissions, by decision.",
            ["decision"],
            registry=r,
        )
        self._ledger_histogram = Histogram(
            "tokengate_ledger_operation_seconds",
            "Time one ledger operation takes.",
            ["op"],
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self._provider_error_counter = Counter(
            "tokengate_provider_errors",
            "Errors from model providers, by kind.",
            ["provider", "model", "kind"],
            registry=r,
        )
        self._circuit = Gauge(
            "tokengate_circuit_state",
            "Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open.",
            ["deployment"],
            registry=r,
            multiprocess_mode="livemax",
        )

    def request_finished(
        self,
        *,
        tenant: str,
        model: str,
        endpoint: str,
        status: str,
        stream: bool,
        input_tokens: int,
        output_tokens: int,
        cost_micros: int,
        overhead_s: float,
        ttft_s: float | None,
        total_s: float,
    ) -> None:
        """Count a finished request: its outcome, tokens, cost and timings."""
        key = (tenant, model, endpoint, status, stream)
        series = self._request_series.get(key) or self._new_request_series(key)
        series.requests.inc()
        if input_tokens:
            series.input_tokens.inc(input_tokens)
        if output_tokens:
            series.output_tokens.inc(output_tokens)
        if cost_micros:
            series.cost.inc(cost_micros)
        series.duration.observe(total_s)
        if ttft_s is not None:
            series.ttft.observe(ttft_s)
        self._overhead.observe(max(overhead_s, 0.0))

    def _new_request_series(self, key: _RequestKey) -> _RequestSeries:
        tenant, model, endpoint, status, stream = key
        capped = (self._cap("tenant", tenant), self._cap("model", model), endpoint, status, stream)
        if capped in self._request_series:
            return self._request_series[capped]
        tenant, model = capped[0], capped[1]
        series = _RequestSeries(
            requests=self._requests.labels(tenant, model, endpoint, status),
            input_tokens=self._tokens.labels(tenant, model, "input"),
            output_tokens=self._tokens.labels(tenant, model, "output"),
            cost=self._cost.labels(tenant, model),
            duration=self._duration.labels(model, "true" if stream else "false"),
            ttft=self._ttft.labels(model),
        )
        self._request_series[capped] = series
        return series

    def _cap(self, label: str, value: str) -> str:
        """The value itself, or ``__other__`` once the label has too many distinct values."""
        seen = self._seen[label]
        if value in seen:
            return value
        if len(seen) >= self._limits[label]:
            return OTHER
        seen.add(value)
        return value

    def in_flight(self) -> InFlight:
        """A context manager counting the requests inside it; a plain ``with`` spans awaits."""
        return self._in_flight

    def ledger_decision(self, *, decision: LedgerDecision) -> None:
        """Count one admission decision of the ledger."""
        self._decisions[decision].inc()

    def ledger_latency(self, *, op: LedgerOp, seconds: float) -> None:
        """Observe how long one ledger reserve or settle took."""
        self._ledger_ops[op].observe(seconds)

    def provider_error(self, *, provider: str, model: str, kind: str) -> None:
        """Count one error from a model provider."""
        key = (provider, model, kind)
        counter = self._provider_errors.get(key)
        if counter is None:
            counter = self._provider_error_counter.labels(provider, self._cap("model", model), kind)
            if model in self._seen["model"]:
                self._provider_errors[key] = counter
        counter.inc()

    def circuit_state(self, *, deployment: str, state: CircuitState) -> None:
        """Record the circuit breaker state of one deployment."""
        self._circuit.labels(deployment).set(CIRCUIT_STATES.index(state))

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition text (OpenMetrics when ``accept`` asks for it) and its content type."""
        registry = self.registry
        if self.multiprocess_dir is not None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        encode, content_type = choose_encoder(accept or "")
        return encode(_WithoutCreated(registry)), content_type

    def close(self) -> None:
        """Drop this process's live gauges from the shared directory (multiprocess mode only)."""
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


def _values_are_shared() -> bool:
    # prometheus_client picks file-backed values once, when it is first imported
    return getattr(values.ValueClass, "_multiprocess", False) is True


class _WithoutCreated(Collector):
    """A registry's metrics minus the ``_created`` samples, which would double every series."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family
