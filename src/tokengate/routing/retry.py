"""When a failed upstream attempt may be tried again, and how long to wait before it.

Failure kinds, as the caller's ``classify`` reports them:

- ``connect``: no connection, or it dropped before any response byte;
- ``timeout``: no response in time, before any byte;
- ``status``: the provider answered an error status (``status`` set);
- ``stream_cut``: it failed after the first byte reached the client. Never retryable (the client
  already has part of an answer), but it still counts against the deployment's breaker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

FailureKind = Literal["connect", "timeout", "status", "stream_cut"]
# 529 is Anthropic's "overloaded"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
# 2**32 times any base delay is past any max_delay; it keeps the float finite
_MAX_DOUBLINGS = 32


@dataclass(frozen=True)
class Failure:
    """An upstream failure, as ``classify`` reports it; ``retry_after`` in seconds."""

    kind: FailureKind
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How many attempts a request gets in all, and the backoff between them.

    ``jitter`` returns a float in [0, 1] (``random.random`` in production).
    """

    jitter: Callable[[], float]
    max_attempts: int = 3
    base_delay: float = 0.1
    max_delay: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.base_delay <= self.max_delay:
            raise ValueError("base_delay must be in [0, max_delay]")

    def delay(self, *, attempt: int, retry_after: float | None = None) -> float:
        """Return the seconds to wait after ``attempt`` failed attempts, before the next one.

        Full jitter: uniform in [0, min(max_delay, base_delay * 2 ** (attempt - 1))]. A provider's
        Retry-After, when given, is a floor (waiting less would only earn another refusal) and
        ``max_delay`` a ceiling over both, so one request never sleeps longer than that per retry.
        """
        if attempt < 1:
            raise ValueError("attempt counts failed attempts and starts at 1")
        share = self.jitter()
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"jitter must return a float in [0, 1], not {share}")
        doublings = min(attempt - 1, _MAX_DOUBLINGS)
        backoff = share * min(self.max_delay, self.base_delay * 2.0**doublings)
        if retry_after is not None:
            backoff = max(backoff, retry_after)
        return min(backoff, self.max_delay)

    def retryable(self, *, status: int | None, kind: FailureKind) -> bool:
        """Tell whether a failure may be tried again (here or on another deployment)."""
        if kind in ("connect", "timeout"):
            return True
        return kind == "status" and status in RETRYABLE_STATUSES
