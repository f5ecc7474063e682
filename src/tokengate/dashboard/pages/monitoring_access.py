"""Who may open the monitoring page, and what a chart's filter reaches: the same access checks
as the admin API (another tenant's tenant, team or user is NotFound)."""

from __future__ import annotations

from dataclasses import dataclass

from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.dashboard.pages.monitoring_params import Filter
from tokengate.dashboard.reads import monitoring
from tokengate.dashboard.reads.monitoring import Audience
from tokengate.dashboard.reads.scope import Scope
from tokengate.dashboard.viewer import Viewer
from tokengate.deps import SessionDep
from tokengate.errors import NotFound, PermissionDenied
from tokengate.tenancy import service as tenancy


@dataclass(frozen=True)
class Target:
    """The rows a chart covers, whose limit changes it marks, and whom it is narrowed to."""

    scope: Scope
    audience: Audience
    label: str | None = None


def require_monitor(viewer: Viewer) -> None:
    """Monitoring is for administrators and team leaders."""
    if not viewer.is_leader:
        raise PermissionDenied(
            localized={
                "en": "Monitoring is for administrators and team leaders.",
                "ko": "사용량 모니터링은 관리자와 팀 리더만 볼 수 있습니다.",
            }
        )


async def tenant_scope(session: SessionDep, viewer: Viewer, tenant_id: int | None) -> Scope:
    """The viewer's reach, narrowed to a tenant they may see (system administrators)."""
    actor = viewer.actor
    tenant = tenant_filter(actor, tenant_id)
    if tenant_id is not None:
        await access.require_tenant(session, actor, tenant_id, Level.READ)
    return Scope.of(actor, tenant_id=tenant)


async def target(session: SessionDep, viewer: Viewer, wanted: Filter) -> Target:
    """The viewer's reach narrowed by the filter, each narrowing checked."""
    actor = viewer.actor
    scope = await tenant_scope(session, viewer, wanted.tenant_id)
    reach = actor.reach()
    found = Target(
        scope, Audience(scope.tenant_id, actor.is_system, reach.user_ids, reach.team_ids)
    )
    if wanted.team_id is not None:
        found = await _team(session, viewer, found, wanted.team_id)
    if wanted.user_id is not None:
        found = await _user(session, viewer, found, wanted.user_id)
    return found


async def _team(session: SessionDep, viewer: Viewer, found: Target, team_id: int) -> Target:
    actor = viewer.actor
    tenant_id = await access.require_team(session, actor, team_id, Level.READ)
    _same_tenant(found.scope, tenant_id, f"team {team_id}")
    members = frozenset(await tenancy.list_member_ids(session=session, team_id=team_id))
    reach = actor.reach().user_ids
    named = await monitoring.names(session, [team_id], by="team")
    return Target(
        Scope(tenant_id, found.scope.user_ids, team_id, found.scope.user_id),
        Audience(
            tenant_id,
            actor.is_system,
            members if reach is None else members & reach,
            frozenset({team_id}),
        ),
        named[team_id].name if team_id in named else None,
    )


async def _user(session: SessionDep, viewer: Viewer, found: Target, user_id: int) -> Target:
    actor = viewer.actor
    tenant_id = await access.require_user(session, actor, user_id, Level.READ)
    if tenant_id is None:  # a system administrator: no tenant, no usage
        raise NotFound(f"user {user_id} does not exist")
    _same_tenant(found.scope, tenant_id, f"user {user_id}")
    teams = frozenset(await tenancy.list_team_ids_of_user(session=session, user_id=user_id))
    named = await monitoring.names(session, [user_id], by="user")
    return Target(
        Scope(tenant_id, found.scope.user_ids, found.scope.team_id, user_id),
        Audience(tenant_id, actor.is_system, frozenset({user_id}), teams),
        named[user_id].name if user_id in named else None,
    )


def _same_tenant(scope: Scope, tenant_id: int, what: str) -> None:
    if scope.tenant_id is not None and scope.tenant_id != tenant_id:
        raise NotFound(f"{what} does not exist")
