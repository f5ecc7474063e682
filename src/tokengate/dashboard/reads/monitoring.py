"""What the monitoring page reads besides totals: usage grouped by team or user, the names
behind those ids, the plans and tenants, per-plan averages of the ledger's percentages, and the
audit events that changed a limit (the markers of the usage chart)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.audit.models import AuditEvent
from tokengate.dashboard.reads.allowance import Allowance
from tokengate.dashboard.reads.scope import Scope
from tokengate.tenancy.models import Plan, Team, Tenant, User
from tokengate.usage.models import UsageHourly

By = Literal["team", "user"]
# the audit actions that change how much someone may use
LIMIT_ACTIONS = (
    "limit.create",
    "limit.update",
    "limit.archive",
    "grant.create",
    "relaxation.create",
    "exemption.create",
    "plan.update",
    "tenant.update",
)
_TOKENS = UsageHourly.input_tokens + UsageHourly.output_tokens


@dataclass(frozen=True)
class Group:
    """One team's or user's usage in a period; team 0 is usage made outside any team."""

    id: int
    requests: int
    tokens: int
    cost_micros: int


@dataclass(frozen=True)
class Named:
    name: str
    tenant: str


@dataclass(frozen=True)
class PlanAverage:
    """The mean of a plan's users' monthly allowance percentages (as the ledger has them)."""

    plan: str
    users: int
    percent: float
    monthly_tokens: int | None


@dataclass(frozen=True)
class Audience:
    """Whose limit changes a chart marks: ``None`` sets mean everyone in the tenant(s)."""

    tenant_id: int | None
    system: bool
    user_ids: frozenset[int] | None = None
    team_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class Marker:
    """A limit change on the time axis."""

    id: int
    at: datetime
    action: str
    target_type: str
    target_id: str | None
    amount: int | None
    metric: str | None
    window: str | None
    plan: str | None


async def grouped(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime, *, by: By
) -> list[Group]:
    """Requests, tokens and cost in [start, end) per team or user, most tokens first."""
    column = UsageHourly.team_id if by == "team" else UsageHourly.user_id
    tokens = func.sum(_TOKENS)
    rows = (
        await session.execute(
            select(
                column, func.sum(UsageHourly.requests), tokens, func.sum(UsageHourly.cost_micros)
            )
            .where(scope.hourly(), UsageHourly.hour >= start, UsageHourly.hour < end)
            .group_by(column)
            .order_by(tokens.desc(), column)
        )
    ).all()
    return [Group(int(r[0]), int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in rows]


async def names(session: AsyncSession, ids: Iterable[int], *, by: By) -> dict[int, Named]:
    """The names (and tenants) of these teams or users, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    owner = Team if by == "team" else User
    rows = (
        await session.execute(
            select(owner.id, owner.name, Tenant.name)
            .join(Tenant, Tenant.id == owner.tenant_id)
            .where(owner.id.in_(wanted))
        )
    ).all()
    return {int(r[0]): Named(r[1], r[2]) for r in rows}


async def tenant_choices(session: AsyncSession) -> list[tuple[int, str]]:
    """Every live tenant, by name (for a system administrator's filter)."""
    rows = await session.execute(
        select(Tenant.id, Tenant.name).where(Tenant.archived.is_(False)).order_by(Tenant.name)
    )
    return [(int(r[0]), r[1]) for r in rows.all()]


async def plan_tokens(session: AsyncSession) -> dict[str, int]:
    """Each plan's monthly token allowance per user, by plan name."""
    rows = await session.execute(select(Plan.name, Plan.monthly_token_limit))
    return {r[0]: int(r[1]) for r in rows.all()}


def plan_averages(found: Iterable[Allowance], monthly: dict[str, int]) -> list[PlanAverage]:
    """Per plan, its users' mean percentage of the monthly allowance (used / amount, as the
    ledger counts them), the largest plan first."""
    shares: dict[str, list[float]] = defaultdict(list)
    for item in found:
        shares[item.plan].append(item.used * 100 / item.amount if item.amount else 100.0)
    averages = [
        PlanAverage(plan, len(values), sum(values) / len(values), monthly.get(plan))
        for plan, values in shares.items()
    ]
    return sorted(averages, key=lambda a: (-(a.monthly_tokens or 0), a.plan))


async def limit_changes(
    session: AsyncSession, audience: Audience, start: datetime, end: datetime, *, limit: int = 200
) -> list[Marker]:
    """The limit, grant and plan changes in [start, end) that concern the audience, oldest
    first."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.action.in_(LIMIT_ACTIONS),
            AuditEvent.at >= start,
            AuditEvent.at < end,
            _tenant_clause(audience),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit * 5)
    )
    events = [e for e in await session.scalars(query) if _concerns(e, audience)][:limit]
    return [_marker(e) for e in reversed(events)]


def _tenant_clause(audience: Audience) -> ColumnElement[bool]:
    if audience.tenant_id is None:
        return true() if audience.system else false()
    mine = AuditEvent.tenant_id == audience.tenant_id
    # plans are system-wide: their changes carry no tenant
    return or_(mine, AuditEvent.tenant_id.is_(None)) if audience.system else mine


def _concerns(event: AuditEvent, audience: Audience) -> bool:
    before, after = event.before or {}, event.after or {}
    if event.action == "tenant.update":
        return before.get("plan") != after.get("plan")
    if event.action == "plan.update":
        changed = before.get("monthly_token_limit") != after.get("monthly_token_limit")
        return audience.system and changed
    if audience.user_ids is None and audience.team_ids is None:
        return True
    return _reaches(after or before, audience)


def _reaches(state: dict[str, Any], audience: Audience) -> bool:
    scope, scope_id = state.get("scope"), state.get("scope_id")
    if scope == "tenant":
        return True
    if scope == "team":
        return audience.team_ids is None or scope_id in audience.team_ids
    person = scope_id if scope == "user" else state.get("user_id")
    if person is not None and scope in ("user", None):
        return audience.user_ids is None or person in audience.user_ids
    return False


def _marker(event: AuditEvent) -> Marker:
    state = event.after or event.before or {}
    amount = state.get("amount", state.get("monthly_token_limit"))
    return Marker(
        id=event.id,
        at=event.at,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        amount=amount if isinstance(amount, int) else None,
        metric=_text(state.get("metric")),
        window=_text(state.get("window")),
        plan=_text(state.get("plan")) if event.action == "tenant.update" else None,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
