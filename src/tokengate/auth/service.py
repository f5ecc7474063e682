"""Building the principal of a request from its user, afresh each time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth import store
from tokengate.auth.principal import Principal


async def principal_for_user(
    session: AsyncSession, user_id: int, *, auth_version: int | None, ip: str | None
) -> Principal | None:
    """The principal of an active or blocked user; None when the user is gone or archived, or
    when the credential predates their last password change or sign-out everywhere."""
    user = await store.get_user(session, user_id)
    if user is None or user.status == "archived":
        return None
    if auth_version is not None and auth_version != user.auth_version:
        return None
    teams = await store.memberships_of(session, user_id)
    led = frozenset(team_id for team_id, role in teams if role == "leader")
    roles = set(user.roles)
    if led:
        roles.add("team_leader")
    led_users = await store.member_ids_of_teams(session, led)
    led_users.discard(user_id)
    return Principal(
        user_id=user.id,
        label=user.email,
        tenant_id=user.tenant_id,
        roles=frozenset(roles),
        led_team_ids=led,
        member_team_ids=frozenset(team_id for team_id, _ in teams),
        led_user_ids=frozenset(led_users),
        ip=ip,
    )
