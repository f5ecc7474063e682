"""Server-side browser sessions: the cookie carries a random token, the database the rest.

A session ends after ``TOKENGATE_SESSION_IDLE_MINUTES`` without a request and
``TOKENGATE_SESSION_ABSOLUTE_HOURS`` after sign-in, whichever comes first, or on logout.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.models import AuthSession
from tokengate.settings import Settings

COOKIE_NAME = "tg_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
# last_seen_at is written at most this often: not on every click
_TOUCH_EVERY = timedelta(seconds=30)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    session: AsyncSession,
    *,
    user_id: int,
    stage: str,
    method: str,
    ip: str | None,
    user_agent: str | None,
    settings: Settings,
    now: datetime,
) -> tuple[str, AuthSession]:
    """Start a session; return the cookie's token (shown once) and the stored row."""
    token = secrets.token_urlsafe(32)
    row = AuthSession(
        id=token_hash(token),
        user_id=user_id,
        stage=stage,
        method=method,
        csrf_token=secrets.token_urlsafe(32),
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + settings.session_absolute(),
    )
    session.add(row)
    await session.flush()
    return token, row


async def load_session(
    session: AsyncSession, token: str, *, settings: Settings, now: datetime
) -> AuthSession | None:
    """Return the live session of a cookie token, or None when unknown, ended or expired."""
    row = await session.get(AuthSession, token_hash(token))
    if row is None or row.revoked_at is not None:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= settings.session_idle():
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
    return row


async def set_stage(session: AsyncSession, row: AuthSession, stage: str) -> None:
    """Move a session on (``mfa`` or ``enrol`` to ``active``); a new CSRF token with it."""
    row.stage = stage
    row.csrf_token = secrets.token_urlsafe(32)
    await session.flush()


async def end_session(session: AsyncSession, token: str, *, now: datetime) -> None:
    """Log out: the session's token stops working at once."""
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == token_hash(token), AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def end_user_sessions(session: AsyncSession, user_id: int, *, now: datetime) -> None:
    """End every session of a user (password reset, MFA reset, archive)."""
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
