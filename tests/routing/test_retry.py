from __future__ import annotations

from collections.abc import Callable

import pytest

from tokengate.routing import FailureKind, RetryPolicy


def policy(share: float = 1.0) -> RetryPolicy:
    return RetryPolicy(jitter=lambda: share)


def test_backoff_doubles_up_to_the_max_delay() -> None:
    delays = [policy().delay(attempt=n) for n in range(1, 8)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0])


@pytest.mark.parametrize(("share", "expected"), [(0.0, 0.0), (0.25, 0.1), (0.5, 0.2)])
def test_full_jitter_scales_the_whole_backoff(share: float, expected: float) -> None:
    assert policy(share).delay(attempt=3) == pytest.approx(expected)


def test_jitter_is_drawn_once_per_delay() -> None:
    shares = iter([0.5, 1.0])
    retry = RetryPolicy(jitter=lambda: next(shares))
    assert [retry.delay(attempt=1), retry.delay(attempt=1)] == pytest.approx([0.05, 0.1])


def test_a_huge_attempt_number_stays_finite() -> None:
    assert policy(0.5).delay(attempt=10_000) == 1.0


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(1.5, 1.5), (0.0, 0.2), (0.05, 0.2), (10.0, 2.0)],
)
def test_retry_after_is_a_floor_and_max_delay_a_ceiling(
    retry_after: float, expected: float
) -> None:
    assert policy().delay(attempt=2, retry_after=retry_after) == pytest.approx(expected)


def test_retry_after_is_honoured_even_with_zero_jitter() -> None:
    assert policy(0.0).delay(attempt=1, retry_after=1.0) == 1.0


def test_jitter_outside_the_unit_interval_is_a_bug() -> None:
    with pytest.raises(ValueError, match="jitter"):
        policy(1.5).delay(attempt=1)


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        policy().delay(attempt=0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: RetryPolicy(jitter=lambda: 0.0, max_attempts=0),
        lambda: RetryPolicy(jitter=lambda: 0.0, base_delay=-0.1),
        lambda: RetryPolicy(jitter=lambda: 0.0, base_delay=3.0, max_delay=2.0),
    ],
)
def test_policy_is_validated(build: Callable[[], RetryPolicy]) -> None:
    with pytest.raises(ValueError):
        build()


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (None, "connect", True),
        (None, "timeout", True),
        (429, "status", True),
        (500, "status", True),
        (502, "status", True),
        (503, "status", True),
        (504, "status", True),
        (529, "status", True),
        (400, "status", False),
        (401, "status", False),
        (403, "status", False),
        (404, "status", False),
        (408, "status", False),
        (413, "status", False),
        (422, "status", False),
        (501, "status", False),
        (None, "status", False),
        (None, "stream_cut", False),
        (503, "stream_cut", False),
    ],
)
def test_retryable_classification(status: int | None, kind: FailureKind, retryable: bool) -> None:
    assert policy().retryable(status=status, kind=kind) is retryable
