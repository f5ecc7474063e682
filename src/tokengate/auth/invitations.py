"""Invitations to join a tenant, accepted by setting a password (or by an OIDC sign-in).

An invitation lives seven days and works once. Its token is random and stored as SHA-256.
A seat of the plan is a user who is not archived or a pending invitation: an administrator
cannot invite more people than the plan's ``max_users`` leaves room for.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.credentials import USE_PROVIDER
from tokengate.auth.models import Invitation
from tokengate.auth.passwords import check_strength, hash_password
from tokengate.auth.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationIssued,
    InvitationPublic,
    InvitationStatus,
)
from tokengate.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from tokengate.pagination import Page, PageRequest, next_cursor
from tokengate.settings import Settings
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.models import Plan, Team, Tenant, User
from tokengate.tenancy.schemas import MembershipCreate, UserCreate

LIFETIME = timedelta(days=7)
ACCEPT_PATH = "/invitations/accept"


async def pending_invitation(
    session: AsyncSession, *, email: str, now: datetime
) -> Invitation | None:
    """The e-mail's invitation that is neither accepted, revoked nor expired (the newest)."""
    return await session.scalar(
        select(Invitation)
        .where(Invitation.email == email.strip().lower(), _pending(now))
        .order_by(Invitation.id.desc())
        .limit(1)
    )


async def create_invitation(
    session: AsyncSession,
    *,
    data: InvitationCreate,
    created_by: int | None,
    settings: Settings,
    now: datetime,
) -> InvitationIssued:
    """Invite someone into a tenant; the token is returned once, in the answer."""
    email = _normalized_email(data.email)
    await _check_team(session, tenant_id=data.tenant_id, team_id=data.team_id)
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with the e-mail {email} already exists", param="email")
    existing = await pending_invitation(session, email=email, now=now)
    if existing is not None:
        raise Conflict(
            f"{email} already has a pending invitation (id {existing.id}): revoke it first",
            param="email",
        )
    await _check_seats(session, tenant_id=data.tenant_id, now=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=_hash(token),
        tenant_id=data.tenant_id,
        email=email,
        name=data.name.strip(),
        roles=sorted(set(data.roles)),
        team_id=data.team_id,
        created_by=created_by,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(invitation)
    await session.flush()
    base = (settings.public_url or "").rstrip("/")
    return InvitationIssued(
        **public(invitation, now).model_dump(),
        token=token,
        accept_url=f"{base}{ACCEPT_PATH}?token={token}",
    )


async def list_invitations(
    session: AsyncSession,
    *,
    tenant_id: int | None,
    team_ids: Collection[int] | None,
    page: PageRequest,
    now: datetime,
) -> Page[InvitationPublic]:
    """Invitations, newest last, of one tenant (None: all) and of some teams (None: any)."""
    query = select(Invitation)
    if tenant_id is not None:
        query = query.where(Invitation.tenant_id == tenant_id)
    if team_ids is not None:
        query = query.where(Invitation.team_id.in_(team_ids))
    if page.after is not None:
        query = query.where(Invitation.id > page.after)
    rows = list(await session.scalars(query.order_by(Invitation.id).limit(page.limit)))
    return Page(items=[public(i, now) for i in rows], next=next_cursor([i.id for i in rows], page))


async def invitation_tenant(session: AsyncSession, *, invitation_id: int) -> int | None:
    """The tenant of an invitation, or None when there is no such invitation."""
    return await session.scalar(select(Invitation.tenant_id).where(Invitation.id == invitation_id))


async def revoke_invitation(
    session: AsyncSession, *, invitation_id: int, now: datetime
) -> tuple[InvitationPublic, InvitationPublic]:
    """Withdraw a pending invitation; return it before and after."""
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(f"invitation {invitation_id} does not exist")
    before = public(invitation, now)
    if before.status in ("accepted", "revoked"):
        raise Conflict(f"invitation {invitation_id} is already {before.status}")
    invitation.revoked_at = now
    await session.flush()
    return before, public(invitation, now)


async def accept_invitation(
    session: AsyncSession, *, data: InvitationAccept, now: datetime
) -> User:
    """Create the invited user with the password they chose; the invitation is used up."""
    invitation = await session.scalar(
        select(Invitation).where(Invitation.token_hash == _hash(data.token))
    )
    if invitation is None:
        raise NotFound(
            localized={
                "en": "this invitation does not exist: check the link you were sent",
                "ko": "초대를 찾을 수 없습니다. 받은 링크를 확인하세요.",
            }
        )
    _ensure_pending(invitation, now)
    tenant = await session.get(Tenant, invitation.tenant_id)
    if tenant is None or not tenant.local_login:
        raise PermissionDenied(localized=USE_PROVIDER)
    check_strength(data.password)
    password_hash = await asyncio.to_thread(hash_password, data.password)
    return await create_invited_user(
        session, invitation=invitation, name=data.name, password_hash=password_hash, now=now
    )


async def create_invited_user(
    session: AsyncSession,
    *,
    invitation: Invitation,
    name: str | None,
    password_hash: str | None,
    now: datetime,
) -> User:
    """Create the user an invitation names (with its roles and team) and mark it accepted.

    For OIDC provisioning too, with no password. Raises Conflict when the e-mail is taken or
    the plan is full.
    """
    _ensure_pending(invitation, now)
    if await session.scalar(select(User.id).where(User.email == invitation.email)) is not None:
        raise Conflict(f"a user with the e-mail {invitation.email} already exists")
    display = (name or "").strip() or invitation.name or invitation.email.split("@")[0]
    created = await tenancy.create_user(
        session=session,
        data=UserCreate.model_validate(
            {
                "tenant_id": invitation.tenant_id,
                "email": invitation.email,
                "name": display[:200],
                "roles": invitation.roles,
            }
        ),
    )
    if invitation.team_id is not None:
        role = "leader" if "team_leader" in invitation.roles else "member"
        await tenancy.add_team_member(
            session=session,
            team_id=invitation.team_id,
            data=MembershipCreate(user_id=created.id, role=role),
        )
    user = await session.get_one(User, created.id)
    user.password_hash = password_hash
    invitation.accepted_at = now
    await session.flush()
    return user


def public(invitation: Invitation, now: datetime) -> InvitationPublic:
    """The invitation as the API shows it (never its token)."""
    return InvitationPublic(
        id=invitation.id,
        tenant_id=invitation.tenant_id,
        email=invitation.email,
        name=invitation.name,
        roles=list(invitation.roles),
        team_id=invitation.team_id,
        created_by=invitation.created_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        accepted_at=invitation.accepted_at,
        revoked_at=invitation.revoked_at,
        status=_status(invitation, now),
    )


def _status(invitation: Invitation, now: datetime) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    return "expired" if invitation.expires_at <= now else "pending"


def _ensure_pending(invitation: Invitation, now: datetime) -> None:
    status = _status(invitation, now)
    if status == "pending":
        return
    messages = {
        "accepted": (
            "this invitation was already used: sign in instead",
            "이미 사용된 초대입니다.",
        ),
        "revoked": ("this invitation was withdrawn", "취소된 초대입니다."),
        "expired": (
            "this invitation has expired: ask your administrator for a new one",
            "초대가 만료되었습니다. 관리자에게 새 초대를 요청하세요.",
        ),
    }
    en, ko = messages[status]
    raise InvalidRequest(localized={"en": en, "ko": ko}, param="token")


def _pending(now: datetime) -> ColumnElement[bool]:
    return and_(
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )


def _normalized_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidRequest(f"invalid e-mail address: {exc}", param="email") from exc


async def _check_team(session: AsyncSession, *, tenant_id: int, team_id: int | None) -> None:
    if team_id is None:
        return
    team = await session.get(Team, team_id)
    if team is None or team.tenant_id != tenant_id or team.archived:
        raise InvalidRequest(
            f"team {team_id} is not an active team of this tenant", param="team_id"
        )


async def _check_seats(session: AsyncSession, *, tenant_id: int, now: datetime) -> None:
    row = (
        await session.execute(
            select(Tenant, Plan).join(Plan, Plan.id == Tenant.plan_id).where(Tenant.id == tenant_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"tenant {tenant_id} does not exist")
    tenant, plan = row
    if tenant.archived:
        raise Conflict(f"tenant {tenant.name!r} is archived: nobody can be invited into it")
    users = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.tenant_id == tenant_id, User.status != "archived")
    )
    invited = await session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.tenant_id == tenant_id, _pending(now))
    )
    if (users or 0) + (invited or 0) >= plan.max_users:
        raise Conflict(
            f"the {plan.name} plan allows at most {plan.max_users} users, counting pending "
            "invitations: revoke one or archive a user first",
            param="tenant_id",
        )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
