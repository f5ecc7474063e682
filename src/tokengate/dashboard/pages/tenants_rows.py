"""What the tenants pages share: a tenant's row (plan, engines, seats, tokens this month), the
plans to choose from, the form's choices and how the service's refusals are said."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tokengate.dashboard.forms import N_, say
from tokengate.dashboard.pages.tenants_refusals import Refusal
from tokengate.dashboard.reads import tenants as reads
from tokengate.dashboard.viewer import Viewer
from tokengate.deps import SessionDep
from tokengate.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from tokengate.pagination import MAX_PAGE_SIZE, PageRequest
from tokengate.tenancy import service
from tokengate.tenancy.schemas import PlanPublic, TenantPublic

# offered in the form; any IANA name is accepted
TIMEZONES = (
    "Asia/Seoul",
    "Asia/Tokyo",
    "Asia/Singapore",
    "UTC",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
)
CURRENCIES = ("USD", "KRW", "EUR", "JPY")
HINTS = {
    "name": N_("Enter a name of up to 200 characters."),
    "plan": N_("Choose a plan."),
    "timezone": N_("Choose a timezone the system knows, such as Asia/Seoul."),
    "locale": N_("Choose Korean or English."),
    "currency": N_("Enter the currency as a three-letter code, such as USD or KRW."),
}
ROLE_REFUSED = N_("Your role does not allow this.")
ACCESS = (
    Refusal(NotFound, None, N_("This tenant does not exist, or it is not yours to see.")),
    Refusal(PermissionDenied, None, ROLE_REFUSED),
)
REFUSALS = (
    Refusal(Conflict, "name", N_("A tenant named %(name)s already exists.")),
    Refusal(InvalidRequest, "plan", N_("%(plan)s is not a plan that can be chosen.")),
    Refusal(
        Conflict,
        "plan",
        N_(
            "This tenant has more users than the %(plan)s plan allows: archive some users "
            "before moving to it."
        ),
    ),
    Refusal(Conflict, None, N_("%(name)s is already archived."), phrase="already archived"),
)


@dataclass(frozen=True)
class Row:
    """A tenant as the tenants page shows it."""

    tenant: TenantPublic
    plan: PlanPublic | None
    seats: int
    tokens: int

    @property
    def engines(self) -> str:
        return ", ".join(self.plan.allowed_models) if self.plan else ""

    @property
    def max_users(self) -> int | None:
        return self.plan.max_users if self.plan else None


def require_admin(viewer: Viewer) -> None:
    """The tenants pages are for system administrators and tenant administrators."""
    if not viewer.is_admin:
        raise PermissionDenied(localized=say(N_("Only administrators can open this page.")))


async def plans(session: SessionDep) -> dict[str, PlanPublic]:
    """Every plan by name, archived ones too (tenants may still be on them)."""
    found = await service.list_plans(
        session=session, page=PageRequest(limit=MAX_PAGE_SIZE), include_archived=True
    )
    return {plan.name: plan for plan in found.items}


async def rows(session: SessionDep, tenants: Sequence[TenantPublic], now: datetime) -> list[Row]:
    """The tenants with their plan, seats taken and tokens used this month."""
    by_name = await plans(session)
    taken = await reads.seats(session, [t.id for t in tenants])
    used = await reads.month_tokens(session, [(t.id, t.timezone) for t in tenants], now)
    return [Row(t, by_name.get(t.plan), taken[t.id], used[t.id]) for t in tenants]
