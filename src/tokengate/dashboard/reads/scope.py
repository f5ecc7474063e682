"""Which rows a viewer's numbers cover: everything, their tenant, or their teams' people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, true

from tokengate.auth.principal import Principal
from tokengate.ledger.windows import window_bounds
from tokengate.usage.models import UsageHourly


@dataclass(frozen=True)
class Scope:
    """A viewer's reach, optionally narrowed to one tenant, team or user (already checked)."""

    tenant_id: int | None = None
    user_ids: frozenset[int] | None = None
    team_id: int | None = None
    user_id: int | None = None

    @classmethod
    def of(cls, actor: Principal, *, tenant_id: int | None = None) -> Scope:
        """What the actor may see; a system administrator may narrow it to one tenant."""
        reach = actor.reach()
        return cls(tenant_id=reach.tenant_id or tenant_id, user_ids=reach.user_ids)

    def narrowed(self, *, team_id: int | None = None, user_id: int | None = None) -> Scope:
        return Scope(
            self.tenant_id, self.user_ids, team_id or self.team_id, user_id or self.user_id
        )

    def hourly(self) -> ColumnElement[bool]:
        """The rollup rows in scope."""
        parts: list[ColumnElement[bool]] = []
        if self.tenant_id is not None:
            parts.append(UsageHourly.tenant_id == self.tenant_id)
        if self.user_ids is not None:
            parts.append(UsageHourly.user_id.in_(sorted(self.user_ids) or [0]))
        if self.team_id is not None:
            parts.append(UsageHourly.team_id == self.team_id)
        if self.user_id is not None:
            parts.append(UsageHourly.user_id == self.user_id)
        return and_(true(), *parts)


def period(window: str, now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """Today, this week (from Monday) or this month in the viewer's timezone, as UTC bounds.

    The rollups are hourly in UTC; every timezone tokengate is used in today is a whole number of
    hours from UTC, so a local day is a whole number of rollup hours.
    """
    start, end = window_bounds(window, now, ZoneInfo(timezone))  # type: ignore[arg-type]
    return start, end


def last_days(days: int, now: datetime) -> tuple[datetime, datetime]:
    """The last ``days`` days up to now."""
    return now - timedelta(days=days), now
