"""Limits as the limits pages show them: what they apply to by name, their usage from the ledger
(``current_usage``, the function behind ``GET /api/v1/usage/current``) and the words for their
scopes, metrics, windows and modes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from tokengate.auth.principal import Principal
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_
from tokengate.dashboard.pages.limits_input import amount_text
from tokengate.dashboard.reads import limits as reads
from tokengate.dashboard.viewer import Viewer
from tokengate.db import utcnow
from tokengate.deps import SessionDep
from tokengate.errors import Locale, NotFound, PermissionDenied
from tokengate.quotas import enforcement
from tokengate.quotas.schemas import LimitPublic, LimitUsage
from tokengate.runtime import Runtime

SCOPES = {"tenant": N_("Tenant"), "team": N_("Team"), "user": N_("User"), "key": N_("API key")}
METRICS = {"tokens": N_("Tokens"), "cost": N_("Cost"), "requests": N_("Requests")}
WINDOWS = {
    "minute": N_("Per minute"),
    "day": N_("Daily"),
    "week": N_("Weekly"),
    "month": N_("Monthly"),
    "quarter": N_("Quarterly"),
    "year": N_("Yearly"),
    "lifetime": N_("Lifetime"),
}
MODES = {
    "block": N_("Block"),
    "overage": N_("Allow and record overage"),
    "alert_only": N_("Alert only"),
}


class Words(TypedDict):
    scopes: dict[str, str]
    metrics: dict[str, str]
    windows: dict[str, str]
    modes: dict[str, str]


def words(locale: Locale) -> Words:
    """The limits pages' words for scopes, metrics, windows and modes."""
    _ = translations(locale).gettext
    return Words(
        scopes={k: _(v) for k, v in SCOPES.items()},
        metrics={k: _(v) for k, v in METRICS.items()},
        windows={k: _(v) for k, v in WINDOWS.items()},
        modes={k: _(v) for k, v in MODES.items()},
    )


def require_leader(viewer: Viewer) -> None:
    """Limits are for administrators and team leaders: members are refused."""
    if not viewer.is_leader:
        _ = translations(viewer.locale).gettext
        raise PermissionDenied(_("Limits are managed by administrators and team leaders."))


@dataclass(frozen=True)
class LimitView:
    """A limit with the name of what it applies to, its tenant and its ledger counter."""

    limit: LimitPublic
    name: str
    tenant: str
    usage: LimitUsage | None
    editable: bool

    @property
    def amount_text(self) -> str:
        return amount_text(self.limit)

    @property
    def remaining(self) -> int | None:
        if self.usage is None:
            return None
        return max(self.usage.amount - self.usage.used - self.usage.reserved, 0)


async def views(
    session: SessionDep,
    runtime: Runtime,
    limits: Iterable[LimitPublic],
    *,
    editable: set[reads.ScopeKey],
) -> list[LimitView]:
    """Each limit by name, with its usage now as the ledger counts it."""
    listed = list(limits)
    keys = {(limit.scope, limit.scope_id) for limit in listed}
    names = await reads.scope_names(session, keys)
    tenants = await reads.tenant_names(session, {limit.tenant_id for limit in listed})
    usage = await usage_by_limit(runtime, keys)
    return [
        LimitView(
            limit=limit,
            name=names.get((limit.scope, limit.scope_id), f"#{limit.scope_id}"),
            tenant=tenants.get(limit.tenant_id, ""),
            usage=usage.get(limit.id),
            editable=(limit.scope, limit.scope_id) in editable,
        )
        for limit in listed
    ]


async def usage_by_limit(
    runtime: Runtime, scopes: Iterable[reads.ScopeKey]
) -> dict[int, LimitUsage]:
    """The ledger's counters of these scopes' limits (``GET /api/v1/usage/current``)."""
    found: dict[int, LimitUsage] = {}
    now = utcnow()
    for scope, scope_id in sorted(scopes):
        try:
            items = await enforcement.current_usage(
                sessions=runtime.sessions,
                ledger=runtime.ledger,
                scope=scope,
                scope_id=scope_id,
                now=now,
            )
        except NotFound:
            continue  # what the limit applies to is gone: the limit no longer counts
        found.update({item.limit_id: item for item in items if item.limit_id is not None})
    return found


async def editable_scopes(
    session: SessionDep, actor: Principal, tenant_id: int | None
) -> tuple[list[reads.Target], set[reads.ScopeKey]]:
    """What the viewer may set limits on (the create form's menu), and those scopes' keys."""
    targets = await reads.targets(session, actor, tenant_id=tenant_id)
    return targets, {(t.scope, t.id) for t in targets}
