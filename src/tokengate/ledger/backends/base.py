"""The contract every ledger backend keeps; the contract tests hold each backend to it.

Semantics shared by all backends:

- ``reserve`` decides across all checks in one atomic step. Each ``block`` check admits at most
  ``(ceiling - used - reserved - fixed) // per-output-token`` output tokens (per metric); the
  grant is the least of those and ``max_output_tokens``. Below ``min_output_tokens``, or when a
  fixed part alone does not fit, the request is denied and nothing changes. ``overage`` and
  ``alert_only`` checks never deny; they are charged like the others. A request id with a live
  reservation gets that reservation back unchanged; one settled within the retention period
  raises ``Conflict``. With no checks at all nothing is recorded and settle reports ``unknown``.
- ``settle`` adds the real usage to the very counters the reservation held, even when their
  window has ended since (the request belongs to the period it was admitted in), and records
  the part past an ``overage`` limit's amount as overage. A second settle changes nothing and
  reports ``already_settled``; a request id never reserved, released or swept reports
  ``unknown``. Thresholds are reported by the settle that lifts usage to them (never for
  rolling limits).
- ``sweep`` drops reservations past their deadline without charging them, so counters always
  equal the sum of settled usage; a gateway must settle before its reservation's deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from tokengate.ledger.types import (
    Charge,
    Demand,
    Denial,
    LimitCheck,
    LimitState,
    Reservation,
    SettleResult,
)

# reservations dropped per sweep step, and how long a settled request id is remembered
DEFAULT_SWEEP_BATCH = 500
DEFAULT_SETTLED_RETENTION = timedelta(hours=1)


class LedgerBackend(Protocol):
    """Atomic reserve/settle of usage against many limits at once."""

    async def reserve(
        self,
        *,
        request_id: str,
        checks: Sequence[LimitCheck],
        demand: Demand,
        now: datetime,
        ttl: timedelta,
    ) -> Reservation | Denial:
        """Admit a request against every check at once, or deny it and change nothing."""
        ...

    async def settle(
        self, *, request_id: str, actual: Charge, now: datetime, tenant_id: int | None = None
    ) -> SettleResult:
        """Release a reservation and add the request's real usage to the counters it held.

        ``tenant_id``, when the caller knows it, spares a backend the look-up of the
        reservation's tenant (one round trip on Redis).
        """
        ...

    async def release(self, *, request_id: str) -> bool:
        """Drop a reservation without charging anything; False when there is none."""
        ...

    async def sweep(self, *, now: datetime) -> int:
        """Drop reservations past their deadline without charging them; return how many."""
        ...

    async def states(self, *, checks: Sequence[LimitCheck], now: datetime) -> list[LimitState]:
        """Return each check's counter as the ledger holds it now, in the order given."""
        ...

    async def aclose(self) -> None:
        """Release what the backend itself opened (not the engine or client it was given)."""
        ...
