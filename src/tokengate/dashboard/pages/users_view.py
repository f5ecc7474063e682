"""What the users pages render for a person: their row, their detail, and what the viewer may
do to them (decided by the same rules the admin API applies)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tokengate.auth.principal import Level, Owner, Principal, allows
from tokengate.dashboard.reads import allowance, users
from tokengate.deps import SessionDep
from tokengate.errors import PermissionDenied
from tokengate.ledger.backends.base import LedgerBackend
from tokengate.pagination import PageRequest, Sort
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.api.guards import guard_target
from tokengate.tenancy.schemas import PLAN_SORTS, PlanPublic, UserPublic

ROLE_ORDER = ("system_admin", "tenant_admin", "team_leader", "member")
ALL_PLANS = PageRequest(limit=500)


@dataclass(frozen=True)
class Row:
    """One person as the list shows them."""

    user: UserPublic
    standing: users.Standing | None
    allowance: allowance.Allowance | None
    may_block: bool

    @property
    def blocked(self) -> bool:
        return self.user.status == "blocked"

    @property
    def roles(self) -> list[str]:
        return sorted(self.user.roles, key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else 9)


@dataclass(frozen=True)
class Detail:
    """One person's page: their row, extra tokens, and which changes the viewer may make."""

    row: Row
    grants: list[users.ExtraTokens]
    plans: list[PlanPublic]
    may_grant: bool
    may_set_plan: bool
    # the viewer's today: the earliest expiry day of extra tokens
    today: date


def _owner(user: UserPublic) -> Owner:
    return Owner(tenant_id=user.tenant_id, user_id=user.id)


def _may_change(actor: Principal, user: UserPublic, level: Level, *, guarded: bool) -> bool:
    # the API's checks: the access level, then (for changes to the person) guard_target
    if user.status == "archived" or not allows(actor, _owner(user), level):
        return False
    if not guarded:
        return True
    try:
        guard_target(actor, user)
    except PermissionDenied:
        return False
    return True


def may_block(actor: Principal, user: UserPublic) -> bool:
    """Whether to offer blocking or unblocking (nobody is offered to block themself)."""
    return user.id != actor.user_id and _may_change(actor, user, Level.LEAD, guarded=True)


async def rows_for(
    session: SessionDep,
    ledger: LedgerBackend,
    actor: Principal,
    people: Sequence[UserPublic],
    *,
    now: datetime,
) -> list[Row]:
    """The rows of these people, with their allowances as the ledger holds them."""
    ids = [p.id for p in people]
    standing = await users.standings(session, ids)
    found = await allowance.allowances(session, ledger, user_ids=ids, now=now)
    return [Row(p, standing.get(p.id), found.get(p.id), may_block(actor, p)) for p in people]


async def active_plans(session: SessionDep) -> list[PlanPublic]:
    """The plans one may choose, the largest allowance first."""
    page = await tenancy.list_plans(
        session=session, page=ALL_PLANS, sort=Sort.parse("name", PLAN_SORTS)
    )
    return sorted(page.items, key=lambda p: (-p.monthly_token_limit, p.name))


async def detail_for(
    session: SessionDep,
    ledger: LedgerBackend,
    actor: Principal,
    user_id: int,
    *,
    now: datetime,
    timezone: str,
) -> Detail:
    """Everything the person's page shows (access already checked)."""
    user = await tenancy.get_user(session=session, user_id=user_id)
    [row] = await rows_for(session, ledger, actor, [user], now=now)
    in_tenant = user.tenant_id is not None
    return Detail(
        row=row,
        grants=await users.extra_tokens(session, user_id=user_id, now=now),
        plans=await active_plans(session),
        may_grant=in_tenant and _may_change(actor, user, Level.ADMIN, guarded=False),
        may_set_plan=in_tenant
        and actor.is_system
        and _may_change(actor, user, Level.ADMIN, guarded=True),
        today=now.astimezone(ZoneInfo(timezone)).date(),
    )
