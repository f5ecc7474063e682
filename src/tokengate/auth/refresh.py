"""Refresh tokens of the API: opaque, stored as SHA-256, replaced by a new one at each use.

The tokens of one sign-in form a family. A token presented after it was used means that two
parties hold it (one of them stole it): the whole family is revoked and both must sign in again.
The family's name starts with the user's ``auth_version`` at sign-in, so a password change or
a "sign out everywhere" ends every family issued before it without touching them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.models import RefreshToken
from tokengate.auth.schemas import TokenPair
from tokengate.auth.tokens import issue_access_token
from tokengate.errors import AuthenticationFailed
from tokengate.settings import Settings
from tokengate.tenancy.models import User


async def issue_token_pair(
    session: AsyncSession,
    *,
    settings: Settings,
    user: User,
    now: datetime,
    family: str | None = None,
) -> TokenPair:
    """An access token and a refresh token for the user: a new sign-in, or the next of a family."""
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            token_hash=_hash(token),
            user_id=user.id,
            family=family or _new_family(user.auth_version),
            created_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    await session.flush()
    access, lifetime = issue_access_token(
        settings, user_id=user.id, auth_version=user.auth_version, now=now
    )
    return TokenPair(access_token=access, refresh_token=token, expires_in=lifetime)


async def rotate_refresh_token(
    session: AsyncSession, *, settings: Settings, token: str, now: datetime
) -> TokenPair:
    """Trade a refresh token for a new pair; raise AuthenticationFailed when it cannot be.

    A token used before revokes its family in ``session``: commit it although this raises.
    """
    row = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None:
        raise AuthenticationFailed("the refresh token is unknown or was revoked: sign in again")
    if row.used_at is not None:
        await revoke_family(session, family=row.family, now=now)
        raise AuthenticationFailed(
            "the refresh token was already used, so it may have been stolen: every token of "
            "this sign-in is revoked, sign in again"
        )
    if row.expires_at <= now:
        raise AuthenticationFailed("the refresh token has expired: sign in again")
    user = await session.get(User, row.user_id)
    if (
        user is None
        or user.status == "archived"
        or _family_version(row.family) != user.auth_version
    ):
        raise AuthenticationFailed("the refresh token is no longer valid: sign in again")
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .returning(RefreshToken.id)
    )
    # presented twice at the same moment (a client racing itself): the later request loses
    if claimed.scalar_one_or_none() is None:
        raise AuthenticationFailed("the refresh token was already used: sign in again")
    return await issue_token_pair(session, settings=settings, user=user, now=now, family=row.family)


async def revoke_refresh_token(session: AsyncSession, *, token: str, now: datetime) -> None:
    """Sign an API client out: its refresh token's whole family stops working (unknown: no-op)."""
    family = await session.scalar(
        select(RefreshToken.family).where(RefreshToken.token_hash == _hash(token))
    )
    if family is not None:
        await revoke_family(session, family=family, now=now)


async def revoke_family(session: AsyncSession, *, family: str, now: datetime) -> None:
    """Revoke every token of one sign-in."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_tokens(session: AsyncSession, *, user_id: int, now: datetime) -> None:
    """Revoke every refresh token of a user (MFA reset, archive)."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_family(auth_version: int) -> str:
    # fits the 32 characters of the column for any auth_version below 10**9
    return f"{auth_version}.{secrets.token_hex(11)}"


def _family_version(family: str) -> int | None:
    version, dot, _ = family.partition(".")
    return int(version) if dot and version.isdigit() else None
