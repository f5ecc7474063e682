from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.errors import Conflict, InvalidRequest, NotFound
from tokengate.tenancy import store
from tokengate.tenancy.models import Team, TeamMembership
from tokengate.tenancy.schemas import (
    MembershipChange,
    MembershipCreate,
    MembershipMove,
    MembershipPublic,
    MembershipUpdate,
)
from tokengate.tenancy.service.teams import team_row


async def add_team_member(
    *, session: AsyncSession, team_id: int, data: MembershipCreate
) -> MembershipPublic:
    """Add a person of the team's tenant to an active team, as leader or member."""
    team = await team_row(session, team_id)
    _ensure_active(team)
    await _check_colleague(session, team, data.user_id, param="user_id")
    if await store.get_membership(session, team_id=team_id, user_id=data.user_id) is not None:
        raise Conflict(
            f"user {data.user_id} is already in team {team.name!r}: change their role instead",
            param="user_id",
        )
    membership = TeamMembership(team_id=team_id, user_id=data.user_id, role=data.role)
    session.add(membership)
    await session.flush()
    return MembershipPublic.model_validate(membership)


async def get_team_member(*, session: AsyncSession, team_id: int, user_id: int) -> MembershipPublic:
    """One membership, or NotFound."""
    team = await team_row(session, team_id)
    return MembershipPublic.model_validate(await _membership(session, team, user_id))


async def update_team_member(
    *, session: AsyncSession, team_id: int, user_id: int, data: MembershipUpdate
) -> MembershipChange:
    """Make a member leader or a leader member; the last leader steps down for a successor."""
    team = await team_row(session, team_id)
    _ensure_active(team)
    membership = await _membership(session, team, user_id)
    if membership.role == data.role:
        raise Conflict(f"user {user_id} is already a {data.role} of team {team.name!r}")
    if data.role == "leader" and data.successor_user_id is not None:
        raise InvalidRequest(
            "successor_user_id only applies when a leader steps down", param="successor_user_id"
        )
    successor = await _hand_over(
        session, team, membership, data.successor_user_id, leaves_team=False
    )
    membership.role = data.role
    await session.flush()
    return MembershipChange(
        membership=MembershipPublic.model_validate(membership), successor=successor
    )


async def remove_team_member(
    *, session: AsyncSession, team_id: int, user_id: int, successor_user_id: int | None
) -> MembershipChange:
    """Take someone out of a team; its usage history keeps them."""
    team = await team_row(session, team_id)
    membership = await _membership(session, team, user_id)
    successor = await _hand_over(session, team, membership, successor_user_id, leaves_team=True)
    removed = MembershipPublic.model_validate(membership)
    await session.delete(membership)
    await session.flush()
    return MembershipChange(membership=removed, successor=successor)


async def move_team_member(
    *, session: AsyncSession, team_id: int, user_id: int, data: MembershipMove
) -> MembershipChange:
    """Move someone to another team of the tenant; their past usage stays with the old one."""
    if data.to_team_id == team_id:
        raise InvalidRequest("the user is already in this team", param="to_team_id")
    source = await team_row(session, team_id)
    target = await team_row(session, data.to_team_id)
    if target.tenant_id != source.tenant_id:
        raise InvalidRequest("a member moves only between teams of one tenant", param="to_team_id")
    _ensure_active(target)
    membership = await _membership(session, source, user_id)
    if await store.get_membership(session, team_id=target.id, user_id=user_id) is not None:
        raise Conflict(f"user {user_id} is already in team {target.name!r}", param="to_team_id")
    successor = await _hand_over(
        session, source, membership, data.successor_user_id, leaves_team=True
    )
    await session.delete(membership)
    moved = TeamMembership(team_id=target.id, user_id=user_id, role=data.role)
    session.add(moved)
    await session.flush()
    return MembershipChange(membership=MembershipPublic.model_validate(moved), successor=successor)


async def list_team_members(*, session: AsyncSession, team_id: int) -> list[MembershipPublic]:
    """List a team's members and their roles."""
    await team_row(session, team_id)
    return [
        MembershipPublic.model_validate(m)
        for m in await store.list_memberships(session, team_id=team_id)
    ]


async def is_team_member(*, session: AsyncSession, team_id: int, user_id: int) -> bool:
    """Whether the user belongs to the team."""
    return await store.get_membership(session, team_id=team_id, user_id=user_id) is not None


async def list_team_ids_of_user(*, session: AsyncSession, user_id: int) -> list[int]:
    """The user's active teams, the one they joined first first."""
    return await store.list_team_ids_of_user(session, user_id=user_id)


async def list_member_ids(*, session: AsyncSession, team_id: int) -> list[int]:
    """The ids of a team's members."""
    return await store.list_member_ids(session, team_id=team_id)


async def _hand_over(
    session: AsyncSession,
    team: Team,
    membership: TeamMembership,
    successor_id: int | None,
    *,
    leaves_team: bool,
) -> MembershipPublic | None:
    # a team that keeps members keeps a leader: its last one names who follows
    if successor_id is not None:
        if successor_id == membership.user_id:
            raise InvalidRequest("the successor must be someone else", param="successor_user_id")
        return await _make_leader(session, team, successor_id)
    if membership.role != "leader" or team.archived:
        return None
    if await store.count_leaders(session, team_id=team.id) > 1:
        return None
    if leaves_team and await store.count_members(session, team_id=team.id) == 1:
        return None
    raise Conflict(
        f"user {membership.user_id} is the last leader of team {team.name!r}: name a "
        "successor (successor_user_id) who leads the team instead",
        param="successor_user_id",
    )


async def _make_leader(session: AsyncSession, team: Team, user_id: int) -> MembershipPublic:
    _ensure_active(team)
    await _check_colleague(session, team, user_id, param="successor_user_id")
    membership = await store.get_membership(session, team_id=team.id, user_id=user_id)
    if membership is None:
        membership = TeamMembership(team_id=team.id, user_id=user_id, role="leader")
        session.add(membership)
    membership.role = "leader"
    await session.flush()
    return MembershipPublic.model_validate(membership)


async def _membership(session: AsyncSession, team: Team, user_id: int) -> TeamMembership:
    membership = await store.get_membership(session, team_id=team.id, user_id=user_id)
    if membership is None:
        raise NotFound(f"user {user_id} is not a member of team {team.id}")
    return membership


async def _check_colleague(session: AsyncSession, team: Team, user_id: int, *, param: str) -> None:
    user = await store.get_user(session, user_id=user_id)
    if user is None or user.tenant_id != team.tenant_id:
        raise InvalidRequest(f"user {user_id} is not in this team's tenant", param=param)
    if user.status == "archived":
        raise Conflict(f"user {user_id} is archived and cannot join a team", param=param)


def _ensure_active(team: Team) -> None:
    if team.archived:
        raise Conflict(
            f"team {team.name!r} is archived: it takes no new members and its roles stay "
            "as they were"
        )
