"""Second factor: TOTP (RFC 6238) with single-use recovery codes, and each tenant's MFA policy.

A code is accepted for the current 30-second step and one step either side (clock drift); a step,
once accepted, is never accepted again for that user, nor is any earlier one. Wrong codes count
towards the ``totp:<user id>`` lockout. Recovery codes are random (about 59 bits), so SHA-256 is
enough to store them; each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Literal

import pyotp
import segno
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth import refresh, store, throttle
from tokengate.auth.models import MfaSecret, RecoveryCode
from tokengate.auth.schemas import Enrolment, MfaPolicyPublic
from tokengate.auth.sessions import end_user_sessions
from tokengate.crypto import SecretBox
from tokengate.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    TokengateError,
)
from tokengate.settings import Settings
from tokengate.tenancy.models import Tenant, User

__all__ = [
    "RECOVERY_CODE_COUNT",
    "Enrolment",
    "confirm_enrolment",
    "disable_mfa",
    "get_mfa_policy",
    "mfa_enabled",
    "mfa_requirement",
    "regenerate_recovery_codes",
    "required_by_tenant",
    "reset_mfa",
    "set_mfa_policy",
    "start_enrolment",
    "verify_second_factor",
]

STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
# no 0/o, 1/l/i: codes are read off paper
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_TOTP_CODE = re.compile(r"[0-9]{6}")
WRONG_CODE = {
    "en": "the code is wrong, expired or already used",
    "ko": "코드가 올바르지 않거나 만료되었거나 이미 사용되었습니다.",
}
Method = Literal["totp", "recovery_code"]


async def mfa_requirement(session: AsyncSession, user: User) -> Literal["none", "verify", "enrol"]:
    """What sign-in asks after the password: a code, an enrolment to make, or nothing."""
    if await mfa_enabled(session, user.id):
        return "verify"
    return "enrol" if await required_by_tenant(session, user) else "none"


async def mfa_enabled(session: AsyncSession, user_id: int) -> bool:
    """Whether the user has a confirmed TOTP secret."""
    row = await session.get(MfaSecret, user_id)
    return row is not None and row.confirmed_at is not None


async def required_by_tenant(session: AsyncSession, user: User) -> bool:
    """Whether the user's tenant requires MFA of everyone or of one of the user's roles."""
    if user.tenant_id is None:
        return False
    required = await session.scalar(
        select(Tenant.mfa_required_for).where(Tenant.id == user.tenant_id)
    )
    if not required:
        return False
    if "all" in required:
        return True
    roles = set(user.roles)
    if "team_leader" in required:
        teams = await store.memberships_of(session, user.id)
        if any(role == "leader" for _, role in teams):
            roles.add("team_leader")
    return bool(roles & set(required))


async def verify_second_factor(
    session: AsyncSession,
    *,
    box: SecretBox,
    settings: Settings,
    user_id: int,
    code: str,
    now: datetime,
) -> Method:
    """Accept a TOTP code or an unused recovery code and say which; raise AuthenticationFailed
    (or AccountLocked while the user's codes are locked). A failure is counted in ``session``:
    commit it although this raises."""
    return await _verify(
        session,
        box=box,
        settings=settings,
        user_id=user_id,
        code=code,
        now=now,
        error=AuthenticationFailed(localized=WRONG_CODE),
    )


async def _verify(
    session: AsyncSession,
    *,
    box: SecretBox,
    settings: Settings,
    user_id: int,
    code: str,
    now: datetime,
    error: TokengateError,
) -> Method:
    key = throttle.totp_key(user_id)
    normalized = _normalize(code)
    await throttle.ensure_unlocked(session, key=key, now=now)
    if _TOTP_CODE.fullmatch(normalized):
        step = await _usable_step(session, box=box, user_id=user_id, code=normalized, now=now)
        if step is None:
            await throttle.refuse(session, key=key, settings=settings, now=now, error=error)
        await throttle.clear(session, key=key)
        claimed = await _claim_step(session, user_id=user_id, step=step)
        method: Method = "totp"
    else:
        code_id = await session.scalar(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == _recovery_hash(normalized),
                RecoveryCode.used_at.is_(None),
            )
        )
        if code_id is None:
            await throttle.refuse(session, key=key, settings=settings, now=now, error=error)
        await throttle.clear(session, key=key)
        claimed = await _claim_recovery_code(session, code_id=code_id, now=now)
        method = "recovery_code"
    # the same code sent twice at the same moment: the later request loses (not counted)
    if not claimed:
        raise error
    return method


async def _usable_step(
    session: AsyncSession, *, box: SecretBox, user_id: int, code: str, now: datetime
) -> int | None:
    """The step of a TOTP code of the user's confirmed secret, if not accepted before."""
    row = await session.get(MfaSecret, user_id)
    if row is None or row.confirmed_at is None:
        return None
    step = _step(box, row, code, now)
    if step is None or (row.last_step is not None and row.last_step >= step):
        return None
    return step


def _step(box: SecretBox, row: MfaSecret, code: str, now: datetime) -> int | None:
    """The time step (of now and one either side) whose code this is."""
    totp = pyotp.TOTP(box.decrypt(row.secret_encrypted))
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


async def _claim_step(session: AsyncSession, *, user_id: int, step: int) -> bool:
    claimed = await session.execute(
        update(MfaSecret)
        .where(
            MfaSecret.user_id == user_id,
            or_(MfaSecret.last_step.is_(None), MfaSecret.last_step < step),
        )
        .values(last_step=step)
        .returning(MfaSecret.user_id)
    )
    return claimed.scalar_one_or_none() is not None


async def _claim_recovery_code(session: AsyncSession, *, code_id: int, now: datetime) -> bool:
    claimed = await session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .returning(RecoveryCode.id)
    )
    return claimed.scalar_one_or_none() is not None


async def start_enrolment(
    session: AsyncSession, *, box: SecretBox, user: User, issuer: str = "tokengate"
) -> Enrolment:
    """Create a fresh TOTP secret, unconfirmed until a code from it is entered.

    Starting again replaces an unconfirmed secret; a confirmed one must be disabled first.
    """
    row = await session.get(MfaSecret, user.id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict(
            localized={
                "en": "two-step verification is already on: disable it before enrolling again",
                "ko": "2단계 인증이 이미 켜져 있습니다. 다시 등록하려면 먼저 끄세요.",
            }
        )
    secret = pyotp.random_base32()
    if row is None:
        row = MfaSecret(user_id=user.id, secret_encrypted=box.encrypt(secret))
        session.add(row)
    else:
        row.secret_encrypted = box.encrypt(secret)
        row.last_step = None
    await session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code for the authenticator")
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg)


async def confirm_enrolment(
    session: AsyncSession,
    *,
    box: SecretBox,
    settings: Settings,
    user_id: int,
    code: str,
    now: datetime,
) -> list[str]:
    """Turn the pending secret on once a code from it matches; return new recovery codes.

    A wrong code is InvalidRequest (the caller is signed in; only the code is wrong) and counts
    towards the user's code lockout.
    """
    key = throttle.totp_key(user_id)
    row = await session.get(MfaSecret, user_id)
    if row is None or row.confirmed_at is not None:
        raise Conflict(
            localized={
                "en": "there is no enrolment to confirm: start one at /api/v1/me/mfa/enrol",
                "ko": "확인할 등록이 없습니다. /api/v1/me/mfa/enrol 에서 시작하세요.",
            }
        )
    await throttle.ensure_unlocked(session, key=key, now=now)
    normalized = _normalize(code)
    step = _step(box, row, normalized, now) if _TOTP_CODE.fullmatch(normalized) else None
    if step is None:
        error = InvalidRequest(localized=WRONG_CODE, param="code")
        await throttle.refuse(session, key=key, settings=settings, now=now, error=error)
    await throttle.clear(session, key=key)
    row.confirmed_at = now
    row.last_step = step
    return await _replace_recovery_codes(session, user_id=user_id, now=now)


async def disable_mfa(
    session: AsyncSession,
    *,
    box: SecretBox,
    settings: Settings,
    user: User,
    code: str,
    now: datetime,
) -> None:
    """Turn the user's second factor off, proven by a current code or a recovery code.

    Refused while their tenant requires MFA of them.
    """
    if await required_by_tenant(session, user):
        raise _policy_forbids()
    await _step_up(session, box=box, settings=settings, user_id=user.id, code=code, now=now)
    await _delete_factor(session, user_id=user.id)


async def regenerate_recovery_codes(
    session: AsyncSession,
    *,
    box: SecretBox,
    settings: Settings,
    user_id: int,
    code: str,
    now: datetime,
) -> list[str]:
    """Replace the user's recovery codes (the old ones stop working), proven by a code."""
    await _step_up(session, box=box, settings=settings, user_id=user_id, code=code, now=now)
    return await _replace_recovery_codes(session, user_id=user_id, now=now)


async def reset_mfa(session: AsyncSession, *, user_id: int, now: datetime) -> None:
    """An administrator's reset: the secret and recovery codes go, every sign-in of the user
    ends (browser sessions and refresh tokens) and their code lockout is lifted."""
    if await session.get(MfaSecret, user_id) is None:
        raise Conflict(f"user {user_id} has no second factor to reset")
    await _delete_factor(session, user_id=user_id)
    await end_user_sessions(session, user_id, now=now)
    await refresh.revoke_user_tokens(session, user_id=user_id, now=now)
    await throttle.clear(session, key=throttle.totp_key(user_id))


async def get_mfa_policy(session: AsyncSession, *, tenant_id: int) -> MfaPolicyPublic:
    """The roles a tenant requires MFA of."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} does not exist")
    return MfaPolicyPublic(tenant_id=tenant_id, required_for=list(tenant.mfa_required_for or []))


async def set_mfa_policy(
    session: AsyncSession, *, tenant_id: int, required_for: list[str]
) -> MfaPolicyPublic:
    """Set the roles a tenant requires MFA of (``all`` covers everyone and stands alone).

    People it newly covers who have no second factor are asked to enrol at their next sign-in.
    """
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} does not exist")
    tenant.mfa_required_for = ["all"] if "all" in required_for else sorted(set(required_for))
    await session.flush()
    return MfaPolicyPublic(tenant_id=tenant_id, required_for=list(tenant.mfa_required_for))


async def _step_up(
    session: AsyncSession,
    *,
    box: SecretBox,
    settings: Settings,
    user_id: int,
    code: str,
    now: datetime,
) -> None:
    if not await mfa_enabled(session, user_id):
        raise Conflict(
            localized={
                "en": "two-step verification is not on for this account",
                "ko": "이 계정은 2단계 인증을 사용하고 있지 않습니다.",
            }
        )
    error = InvalidRequest(localized=WRONG_CODE, param="code")
    await _verify(
        session, box=box, settings=settings, user_id=user_id, code=code, now=now, error=error
    )


def _policy_forbids() -> TokengateError:
    return PermissionDenied(
        localized={
            "en": "your organisation requires two-step verification: it cannot be turned off",
            "ko": "조직에서 2단계 인증을 요구하므로 끌 수 없습니다.",
        }
    )


async def _delete_factor(session: AsyncSession, *, user_id: int) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    await session.execute(delete(MfaSecret).where(MfaSecret.user_id == user_id))


async def _replace_recovery_codes(
    session: AsyncSession, *, user_id: int, now: datetime
) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(user_id=user_id, code_hash=_recovery_hash(_normalize(c)), created_at=now)
        for c in codes
    )
    await session.flush()
    return codes


def _new_recovery_code() -> str:
    letters = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(letters[i : i + 4] for i in (0, 4, 8))


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _recovery_hash(normalized: str) -> str:
    return hashlib.sha256(normalized.encode()).hexdigest()
