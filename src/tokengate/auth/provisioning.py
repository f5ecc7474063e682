"""Who an external sign-in is: a known identity, an existing user, an invitee or a newcomer of a
mapped e-mail domain (in that order), or nobody tokengate knows, who is refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.domains import find_domain
from tokengate.auth.invitations import create_invited_user, pending_invitation
from tokengate.auth.models import ExternalIdentity
from tokengate.auth.providers import ExternalProfile
from tokengate.errors import Conflict, PermissionDenied
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.models import Tenant, User
from tokengate.tenancy.schemas import UserCreate


async def provision(session: AsyncSession, *, profile: ExternalProfile, now: datetime) -> User:
    """The user behind an external sign-in, created on their first one; PermissionDenied when
    tokengate does not know them or their account may not sign in."""
    identity = await session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider == profile.provider,
            ExternalIdentity.subject == profile.subject,
        )
    )
    if identity is not None:
        user = await session.get(User, identity.user_id)
        if user is not None:
            await _check_usable(session, user)
            identity.email = profile.email
            return user
    user = await session.scalar(select(User).where(User.email == profile.email))
    if user is None:
        user = await _from_invitation(session, profile, now) or await _from_domain(session, profile)
    if user is None:
        raise PermissionDenied(
            localized={
                "en": "Your e-mail address is not registered with any organisation. "
                "Ask your administrator for an invitation.",
                "ko": "이 이메일 주소는 어떤 조직에도 등록되어 있지 않습니다. "
                "관리자에게 초대를 요청하세요.",
            }
        )
    await _check_usable(session, user)
    session.add(
        ExternalIdentity(
            provider=profile.provider,
            subject=profile.subject,
            user_id=user.id,
            email=profile.email,
            created_at=now,
        )
    )
    await session.flush()
    return user


async def _check_usable(session: AsyncSession, user: User) -> None:
    tenant = None if user.tenant_id is None else await session.get(Tenant, user.tenant_id)
    if user.status == "archived" or (tenant is not None and tenant.archived):
        raise PermissionDenied(
            localized={
                "en": "This account has been archived and can no longer sign in.",
                "ko": "보관 처리된 계정이라 더 이상 로그인할 수 없습니다.",
            }
        )


async def _from_invitation(
    session: AsyncSession, profile: ExternalProfile, now: datetime
) -> User | None:
    invitation = await pending_invitation(session, email=profile.email, now=now)
    if invitation is None:
        return None
    try:
        return await create_invited_user(
            session,
            invitation=invitation,
            name=invitation.name or profile.name,
            password_hash=None,
            now=now,
        )
    except Conflict as exc:
        raise _no_room() from exc


async def _from_domain(session: AsyncSession, profile: ExternalProfile) -> User | None:
    mapping = await find_domain(session=session, email=profile.email)
    if mapping is None:
        return None
    tenant = await session.get(Tenant, mapping.tenant_id)
    if tenant is None or tenant.archived:
        return None
    return await _create(
        session,
        tenant_id=mapping.tenant_id,
        email=profile.email,
        name=profile.name,
        roles=["member", *mapping.roles],
    )


async def _create(
    session: AsyncSession, *, tenant_id: int, email: str, name: str, roles: list[str]
) -> User:
    data = UserCreate.model_validate(
        {"tenant_id": tenant_id, "email": email, "name": name[:200] or email, "roles": roles}
    )
    try:
        created = await tenancy.create_user(session=session, data=data)
    except Conflict as exc:
        raise _no_room() from exc
    return await session.get_one(User, created.id)


def _no_room() -> PermissionDenied:
    # the e-mail was checked before: the plan's maximum number of users is reached
    return PermissionDenied(
        localized={
            "en": "Your organisation has no room for more users on its plan. "
            "Ask your administrator.",
            "ko": "조직의 플랜에 사용자를 더 추가할 수 없습니다. 관리자에게 문의하세요.",
        }
    )
