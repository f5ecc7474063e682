from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from tests.routing.factories import FakeClock, trip
from tokengate.errors import TokengateError, UpstreamError
from tokengate.routing import (
    Attempt,
    Balancer,
    BreakerConfig,
    BreakerRegistry,
    BreakerState,
    Candidate,
    Deployment,
    Failure,
    NoDeploymentAvailable,
    RetryPolicy,
    run_with_failover,
)

Outcome = BaseException | str


class Upstream(UpstreamError):
    """A scripted upstream failure, classified as its ``failure``."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.kind} {failure.status}")
        self.failure = failure


def unavailable(status: int = 503, retry_after: float | None = None) -> Upstream:
    return Upstream(Failure(kind="status", status=status, retry_after=retry_after))


@dataclass
class Script:
    """Scripted outcomes per deployment key; records what the plan did."""

    outcomes: dict[str, list[Outcome]]
    attempts: list[tuple[int, str, str]] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    classified: list[Exception] = field(default_factory=list)
    watch: Balancer | None = None
    in_flight: list[int] = field(default_factory=list)
    cancel_sleep: bool = False

    async def attempt(self, attempt: Attempt) -> str:
        self.attempts.append((attempt.number, attempt.model, attempt.deployment.key))
        if self.watch is not None:
            self.in_flight.append(self.watch.in_flight(attempt.deployment))
        outcome = self.outcomes[attempt.deployment.key].pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.cancel_sleep:
            raise asyncio.CancelledError

    def classify(self, error: TokengateError) -> Failure | None:
        self.classified.append(error)
        return error.failure if isinstance(error, Upstream) else None

    async def run(self, candidates: list[Candidate], *, max_attempts: int = 3) -> str:
        return await run_with_failover(
            candidates=candidates,
            attempt=self.attempt,
            policy=RetryPolicy(jitter=lambda: 1.0, max_attempts=max_attempts),
            sleep=self.sleep,
            classify=self.classify,
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def registry(clock: FakeClock) -> BreakerRegistry:
    return BreakerRegistry(clock=clock)


def model(name: str, registry: BreakerRegistry, *deployments: tuple[int, str, int]) -> Candidate:
    """A candidate model over (id, key, weight) deployments."""
    built = [Deployment(id=id_, key=key, weight=weight) for id_, key, weight in deployments]
    return Candidate(model=name, balancer=Balancer(deployments=built, breakers=registry))


def failures(registry: BreakerRegistry, deployment_id: int) -> int:
    return registry.get(deployment_id).snapshot().consecutive_failures


async def test_the_first_success_needs_no_retry(registry: BreakerRegistry) -> None:
    script = Script({"a": ["ok"]})
    assert await script.run([model("C1", registry, (1, "a", 1))]) == "ok"
    assert script.attempts == [(1, "C1", "a")]
    assert script.sleeps == []
    assert registry.get(1).snapshot().samples == 1


async def test_the_attempt_runs_while_counted_in_flight(registry: BreakerRegistry) -> None:
    candidate = model("C1", registry, (1, "a", 1))
    script = Script({"a": ["ok"]}, watch=candidate.balancer)
    await script.run([candidate])
    assert script.in_flight == [1]
    assert candidate.balancer.in_flight(candidate.balancer.deployments[0]) == 0


async def test_fails_over_across_deployments_then_fallback_models(
    registry: BreakerRegistry,
) -> None:
    timeout = Upstream(Failure(kind="timeout"))
    script = Script({"a": [unavailable()], "b": [timeout], "d": ["ok"]})
    candidates = [
        model("C1", registry, (1, "a", 1), (2, "b", 1)),
        model("C2", registry, (3, "d", 1)),
    ]
    assert await script.run(candidates) == "ok"
    assert script.attempts == [(1, "C1", "a"), (2, "C1", "b"), (3, "C2", "d")]
    assert script.sleeps == pytest.approx([0.1, 0.2])
    assert [failures(registry, id_) for id_ in (1, 2, 3)] == [1, 1, 0]


async def test_attempts_are_capped_and_the_last_error_is_raised(
    registry: BreakerRegistry,
) -> None:
    last = unavailable(502)
    script = Script({"a": [unavailable()], "b": [last], "d": ["ok"]})
    candidates = [
        model("C1", registry, (1, "a", 1), (2, "b", 1)),
        model("C2", registry, (3, "d", 1)),
    ]
    with pytest.raises(Upstream) as raised:
        await script.run(candidates, max_attempts=2)
    assert raised.value is last
    assert [key for _, _, key in script.attempts] == ["a", "b"]


async def test_the_only_deployment_is_retried_after_its_retry_after(
    registry: BreakerRegistry,
) -> None:
    script = Script({"a": [unavailable(429, retry_after=1.5), "ok"]})
    assert await script.run([model("C1", registry, (1, "a", 1))]) == "ok"
    assert [key for _, _, key in script.attempts] == ["a", "a"]
    assert script.sleeps == [1.5]


async def test_retry_after_does_not_delay_a_switch_to_another_deployment(
    registry: BreakerRegistry,
) -> None:
    script = Script({"a": [unavailable(429, retry_after=1.5)], "b": ["ok"]})
    assert await script.run([model("C1", registry, (1, "a", 1), (2, "b", 1))]) == "ok"
    assert script.sleeps == pytest.approx([0.1])


async def test_a_new_round_avoids_the_deployment_that_just_failed(
    registry: BreakerRegistry,
) -> None:
    # left alone, the weighted round-robin would pick "a" again on the third pick
    errors: list[Outcome] = [unavailable() for _ in range(4)]
    script = Script({"a": errors[1::2], "b": errors[0::2]})
    with pytest.raises(Upstream) as raised:
        await script.run([model("C1", registry, (1, "a", 1), (2, "b", 3))], max_attempts=4)
    assert [key for _, _, key in script.attempts] == ["b", "a", "b", "a"]
    assert raised.value is errors[3]


async def test_no_deployment_available_when_every_breaker_is_open(
    registry: BreakerRegistry,
) -> None:
    candidates = [model("C1", registry, (1, "a", 1)), model("C2", registry, (2, "d", 1))]
    trip(registry.get(1))
    trip(registry.get(2))
    script = Script({})
    with pytest.raises(NoDeploymentAvailable) as raised:
        await script.run(candidates)
    assert (raised.value.status_code, raised.value.code) == (503, "no_deployment_available")
    assert script.attempts == []


async def test_no_candidates_means_no_deployment_available() -> None:
    with pytest.raises(NoDeploymentAvailable):
        await Script({}).run([])


async def test_a_fallback_serves_while_the_requested_model_is_out(
    registry: BreakerRegistry,
) -> None:
    candidates = [model("C1", registry, (1, "a", 1)), model("C2", registry, (2, "d", 1))]
    trip(registry.get(1))
    script = Script({"d": ["ok"]})
    assert await script.run(candidates) == "ok"
    assert script.attempts == [(1, "C2", "d")]


async def test_the_last_error_wins_over_breakers_that_opened_meanwhile(clock: FakeClock) -> None:
    registry = BreakerRegistry(clock=clock, config=BreakerConfig(failure_threshold=1))
    last = unavailable(500)
    script = Script({"a": [unavailable()], "d": [last]})
    candidates = [model("C1", registry, (1, "a", 1)), model("C2", registry, (2, "d", 1))]
    with pytest.raises(Upstream) as raised:
        await script.run(candidates)
    assert raised.value is last
    assert len(script.attempts) == 2


@pytest.mark.parametrize(
    "error",
    [ValueError("a bug"), unavailable(400), Upstream(Failure(kind="stream_cut"))],
    ids=["unclassified", "client-error", "stream-cut"],
)
async def test_a_non_retryable_error_propagates_at_once(
    registry: BreakerRegistry, error: Exception
) -> None:
    script = Script({"a": [error], "b": ["ok"]})
    with pytest.raises(type(error)) as raised:
        await script.run([model("C1", registry, (1, "a", 1), (2, "b", 1))])
    assert raised.value is error
    assert script.attempts == [(1, "C1", "a")]
    assert script.sleeps == []


@pytest.mark.parametrize(
    ("failure", "blamed"),
    [
        (Failure(kind="connect"), True),
        (Failure(kind="timeout"), True),
        (Failure(kind="stream_cut"), True),
        (Failure(kind="status", status=429), True),
        (Failure(kind="status", status=503), True),
        (Failure(kind="status", status=501), True),
        (Failure(kind="status", status=400), False),
        (Failure(kind="status", status=401), False),
        (Failure(kind="status"), False),
    ],
)
async def test_which_failures_count_against_the_breaker(
    registry: BreakerRegistry, failure: Failure, blamed: bool
) -> None:
    script = Script({"a": [Upstream(failure)]})
    with pytest.raises(Upstream):
        await script.run([model("C1", registry, (1, "a", 1))], max_attempts=1)
    assert failures(registry, 1) == int(blamed)


async def test_a_probe_success_closes_the_breaker(
    registry: BreakerRegistry, clock: FakeClock
) -> None:
    trip(registry.get(1))
    clock.advance(30)
    assert await Script({"a": ["ok"]}).run([model("C1", registry, (1, "a", 1))]) == "ok"
    assert registry.get(1).state is BreakerState.CLOSED


async def test_a_probe_ending_in_a_client_error_frees_the_slot(
    registry: BreakerRegistry, clock: FakeClock
) -> None:
    trip(registry.get(1))
    clock.advance(30)
    with pytest.raises(Upstream):
        await Script({"a": [unavailable(400)]}).run([model("C1", registry, (1, "a", 1))])
    assert registry.get(1).state is BreakerState.HALF_OPEN
    assert registry.get(1).available


async def test_cancellation_propagates_unclassified_and_frees_probe_and_lease(
    registry: BreakerRegistry, clock: FakeClock
) -> None:
    candidate = model("C1", registry, (1, "a", 1))
    trip(registry.get(1))
    clock.advance(30)
    script = Script({"a": [asyncio.CancelledError()]})
    with pytest.raises(asyncio.CancelledError):
        await script.run([candidate])
    assert script.classified == []
    assert registry.get(1).available
    assert candidate.balancer.in_flight(candidate.balancer.deployments[0]) == 0


async def test_cancellation_during_the_backoff_frees_the_next_probe(
    registry: BreakerRegistry, clock: FakeClock
) -> None:
    trip(registry.get(2))
    clock.advance(30)
    script = Script({"a": [unavailable()]}, cancel_sleep=True)
    with pytest.raises(asyncio.CancelledError):
        await script.run([model("C1", registry, (1, "a", 1), (2, "b", 1))])
    assert registry.get(2).state is BreakerState.HALF_OPEN
    assert registry.get(2).available
