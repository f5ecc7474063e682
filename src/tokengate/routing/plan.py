"""One request's way through the deployments of its model, then of its fallback models.

Order: the requested model's deployments (as its balancer picks them), then each fallback model's
in turn. A deployment that failed is not picked again in the request while any untried one is
available; once none is, the round starts over, still avoiding the one that failed last unless
it is the only deployment left. ``policy.max_attempts`` caps the attempts across all models.

Per attempt, ``classify`` sorts an exception out:

- ``None``: not an upstream failure (a client error, a bug, ...): it propagates at once;
- a ``Failure`` the policy finds retryable: recorded, then the next attempt follows a backoff;
- any other ``Failure`` (a 400, a stream cut after the first byte): it propagates at once.

Breakers see connection errors, timeouts, stream cuts, 429 and 5xx as failures and a returned
attempt as a success; anything else (cancellation included) only frees a half-open probe slot.
Attempts fail with tokengate's own errors (providers map their transport errors to the
``Upstream*`` classes); anything else is a bug or a cancellation and propagates unclassified.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tokengate.errors import NoDeploymentAvailable, TokengateError
from tokengate.routing.balancer import Balancer, Deployment
from tokengate.routing.breaker import CircuitBreaker
from tokengate.routing.retry import Failure, RetryPolicy

T = TypeVar("T")
# (candidate index, deployment id): deployment ids need not be unique across models
_Slot = tuple[int, int]


@dataclass(frozen=True)
class Candidate:
    """A model to try and the balancer over its deployments; the first is the one requested."""

    model: str
    balancer: Balancer


@dataclass(frozen=True)
class Attempt:
    """One try of one deployment; ``number`` counts from 1 across the whole request."""

    number: int
    model: str
    deployment: Deployment


@dataclass
class _Last:
    slot: _Slot
    failure: Failure
    error: TokengateError


async def run_with_failover(
    *,
    candidates: Sequence[Candidate],
    attempt: Callable[[Attempt], Awaitable[T]],
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]],
    classify: Callable[[TokengateError], Failure | None],
) -> T:
    """Return the first successful attempt's result, failing over as the policy allows."""
    tried: list[set[int]] = [set() for _ in candidates]
    last: _Last | None = None
    for number in range(1, policy.max_attempts + 1):
        slot = _next_slot(candidates=candidates, tried=tried, last=last)
        if slot is None:
            break
        index, deployment = slot
        candidate = candidates[index]
        breaker = candidate.balancer.breaker(deployment)
        try:
            if last is not None:
                await sleep(_delay(policy=policy, attempt=number - 1, last=last, slot=slot))
            with candidate.balancer.acquire(deployment):
                result = await attempt(
                    Attempt(number=number, model=candidate.model, deployment=deployment)
                )
        except TokengateError as error:
            failure = classify(error)
            _record(breaker=breaker, failure=failure)
            if failure is None or not policy.retryable(status=failure.status, kind=failure.kind):
                raise
            last = _Last(slot=(index, deployment.id), failure=failure, error=error)
            tried[index].add(deployment.id)
            continue
        except BaseException:
            breaker.release()
            raise
        breaker.record_success()
        return result
    if last is None:
        raise NoDeploymentAvailable()
    raise last.error


def _next_slot(
    *, candidates: Sequence[Candidate], tried: list[set[int]], last: _Last | None
) -> tuple[int, Deployment] | None:
    slot = _first_pick(candidates=candidates, exclude=tried)
    if slot is not None or last is None:
        return slot
    # every untried deployment is out: start a new round, sparing the one that just failed
    for ids in tried:
        ids.clear()
    index, deployment_id = last.slot
    tried[index].add(deployment_id)
    slot = _first_pick(candidates=candidates, exclude=tried)
    if slot is None:
        tried[index].clear()
        slot = _first_pick(candidates=candidates, exclude=tried)
    return slot


def _first_pick(
    *, candidates: Sequence[Candidate], exclude: list[set[int]]
) -> tuple[int, Deployment] | None:
    for index, candidate in enumerate(candidates):
        deployment = candidate.balancer.pick(exclude=exclude[index])
        if deployment is not None:
            return index, deployment
    return None


def _delay(
    *, policy: RetryPolicy, attempt: int, last: _Last, slot: tuple[int, Deployment]
) -> float:
    # Retry-After speaks for the deployment that sent it, not for the one we switch to
    same = last.slot == (slot[0], slot[1].id)
    return policy.delay(attempt=attempt, retry_after=last.failure.retry_after if same else None)


def _record(*, breaker: CircuitBreaker, failure: Failure | None) -> None:
    if failure is not None and _blames_deployment(failure):
        breaker.record_failure()
    else:
        breaker.release()


def _blames_deployment(failure: Failure) -> bool:
    if failure.kind != "status":
        return True
    return failure.status is not None and (failure.status == 429 or failure.status >= 500)
