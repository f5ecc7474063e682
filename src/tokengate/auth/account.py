"""The caller's own account, as ``/api/v1/me`` shows and changes it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.audit import service as audit
from tokengate.auth.mfa import mfa_enabled
from tokengate.auth.principal import Principal
from tokengate.auth.schemas import MePublic
from tokengate.errors import AuthenticationFailed, InvalidRequest
from tokengate.tenancy.models import User


async def describe_caller(session: AsyncSession, actor: Principal) -> MePublic:
    """Who the caller is: their account, effective roles and teams."""
    if actor.user_id is None:
        return MePublic(
            id=None,
            email=None,
            name=actor.label,
            tenant_id=None,
            roles=sorted(actor.roles),
            led_team_ids=[],
            member_team_ids=[],
            mfa_enabled=False,
            locale=None,
        )
    user = await own_user(session, actor)
    return MePublic(
        id=user.id,
        email=user.email,
        name=user.name,
        tenant_id=user.tenant_id,
        roles=sorted(actor.roles),
        led_team_ids=sorted(actor.led_team_ids),
        member_team_ids=sorted(actor.member_team_ids),
        mfa_enabled=await mfa_enabled(session, user.id),
        locale=user.locale,
    )


async def own_user(session: AsyncSession, actor: Principal) -> User:
    """The caller's user; the master key has none, so it cannot change "its" account."""
    if actor.user_id is None:
        raise InvalidRequest(
            "the master key is not a user account: sign in as a user (POST /api/v1/auth/token) "
            "to change a password or a second factor"
        )
    user = await session.get(User, actor.user_id)
    if user is None:  # archived or deleted since the principal was read: sign in again
        raise AuthenticationFailed("the account no longer exists: sign in again")
    return user


async def record_own_change(
    session: AsyncSession,
    actor: Principal,
    user: User,
    action: str,
    *,
    after: dict[str, bool] | None = None,
) -> None:
    """Audit a change someone made to their own account (never its secrets)."""
    await audit.record(
        session,
        actor,
        action,
        target_type="user",
        target_id=user.id,
        tenant_id=user.tenant_id,
        after=after,
    )
