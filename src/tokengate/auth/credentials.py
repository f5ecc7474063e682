"""Password sign-in, throttled per e-mail address, and changing one's password."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth import mfa, refresh, throttle
from tokengate.auth.passwords import check_strength, hash_password, verify_password
from tokengate.auth.schemas import TokenPair
from tokengate.auth.sessions import end_user_sessions
from tokengate.crypto import SecretBox
from tokengate.errors import (
    AuthenticationFailed,
    InvalidRequest,
    MfaRequired,
    NotFound,
    PermissionDenied,
)
from tokengate.settings import Settings
from tokengate.tenancy.models import Tenant, User

WRONG_CREDENTIALS = {
    "en": "wrong e-mail or password",
    "ko": "이메일 또는 비밀번호가 올바르지 않습니다.",
}
USE_PROVIDER = {
    "en": "your organisation signs in through its identity provider: "
    "use its button on the sign-in page instead of a password",
    "ko": "이 조직은 자체 인증 서비스로 로그인합니다. "
    "비밀번호 대신 로그인 화면의 해당 버튼을 사용하세요.",
}


async def check_password(
    session: AsyncSession, *, email: str, password: str, settings: Settings, now: datetime
) -> User:
    """Return the user whose e-mail and password these are, or raise.

    Unknown e-mail, wrong password, no password set and archived user all give the same
    AuthenticationFailed, after the same work. Failures count towards the e-mail's lockout
    (AccountLocked, even for the right password, until it ends); a success clears it. A tenant
    that allows no local passwords gets PermissionDenied, told only to whoever knows the password.
    A failure is counted in ``session``: commit it although this raises.
    """
    key = throttle.password_key(email)
    await throttle.ensure_unlocked(session, key=key, now=now)
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    tenant = await _tenant_of(session, user)
    # argon2 takes tens of milliseconds: keep the event loop serving other requests
    matches = await asyncio.to_thread(
        verify_password, user.password_hash if user else None, password
    )
    archived = tenant is not None and tenant.archived
    if user is None or not matches or user.status == "archived" or archived:
        await throttle.refuse(
            session,
            key=key,
            settings=settings,
            now=now,
            error=AuthenticationFailed(localized=WRONG_CREDENTIALS),
        )
    if tenant is not None and not tenant.local_login:
        raise PermissionDenied(localized=USE_PROVIDER)
    await throttle.clear(session, key=key)
    return user


async def sign_in_for_tokens(
    session: AsyncSession,
    *,
    box: SecretBox,
    settings: Settings,
    email: str,
    password: str,
    code: str | None,
    now: datetime,
) -> TokenPair:
    """API sign-in: the password, then the second factor if the user has one; a token pair.

    Someone whose tenant requires MFA and who has not enrolled gets MfaRequired and no token:
    enrolment happens in the dashboard, which walks them through it after the password.
    """
    user = await check_password(session, email=email, password=password, settings=settings, now=now)
    requirement = await mfa.mfa_requirement(session, user)
    if requirement == "enrol":
        raise MfaRequired(
            localized={
                "en": "your organisation requires two-step verification: sign in to the "
                "dashboard once to set up an authenticator app, then ask for a token again",
                "ko": "조직에서 2단계 인증을 요구합니다. 대시보드에 로그인해 인증 앱을 먼저 "
                "등록한 뒤 다시 토큰을 요청하세요.",
            }
        )
    if requirement == "verify":
        if not code:
            raise MfaRequired(
                localized={
                    "en": "a second factor is required: send the code of your authenticator "
                    "app (or a recovery code) as `totp`",
                    "ko": "2단계 인증이 필요합니다. 인증 앱의 코드(또는 복구 코드)를 `totp`로 "
                    "보내세요.",
                }
            )
        await mfa.verify_second_factor(
            session, box=box, settings=settings, user_id=user.id, code=code, now=now
        )
    return await refresh.issue_token_pair(session, settings=settings, user=user, now=now)


async def change_password(
    session: AsyncSession,
    *,
    user_id: int,
    current_password: str,
    new_password: str,
    settings: Settings,
    now: datetime,
) -> User:
    """Set a new password after checking the current one (throttled like sign-in).

    The user's ``auth_version`` goes up: every access token, refresh token and browser session
    issued before stops working. A wrong current password is counted in ``session``: commit it
    although this raises.
    """
    user = await session.get(User, user_id)
    if user is None or user.status == "archived":
        raise NotFound(f"user {user_id} does not exist")
    tenant = await _tenant_of(session, user)
    if tenant is not None and not tenant.local_login:
        raise PermissionDenied(localized=USE_PROVIDER)
    check_strength(new_password, param="new_password")
    key = throttle.password_key(user.email)
    await throttle.ensure_unlocked(session, key=key, now=now)
    if not await asyncio.to_thread(verify_password, user.password_hash, current_password):
        await throttle.refuse(
            session,
            key=key,
            settings=settings,
            now=now,
            error=InvalidRequest(
                localized={
                    "en": "the current password is wrong",
                    "ko": "현재 비밀번호가 올바르지 않습니다.",
                },
                param="current_password",
            ),
        )
    await throttle.clear(session, key=key)
    user.password_hash = await asyncio.to_thread(hash_password, new_password)
    user.auth_version += 1
    await end_user_sessions(session, user.id, now=now)
    await session.flush()
    return user


async def _tenant_of(session: AsyncSession, user: User | None) -> Tenant | None:
    if user is None or user.tenant_id is None:
        return None
    return await session.get(Tenant, user.tenant_id)
