"""Sign-in for API use (JWT access and refresh tokens), the caller's own account and MFA.

Sign-in steps answer their own refusals (``_answered``) rather than raise them: the request's
transaction then still commits what the refusal wrote, i.e. the failed attempt counted towards
the lockout, or the family of a stolen refresh token revoked.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from fastapi import APIRouter, Request, Response, status
from starlette.responses import JSONResponse

from tokengate.api_errors import api_error_response
from tokengate.audit import service as audit
from tokengate.auth import access, account, credentials, mfa, refresh
from tokengate.auth.invitations_api import router as invitations_router
from tokengate.auth.principal import Level
from tokengate.auth.schemas import (
    Enrolment,
    MePublic,
    MfaCode,
    MfaPolicy,
    MfaPolicyPublic,
    PasswordChange,
    RecoveryCodes,
    RefreshRequest,
    TokenPair,
    TokenRequest,
)
from tokengate.db import utcnow
from tokengate.deps import ActorDep, IdPath, RuntimeDep, SessionDep
from tokengate.errors import TokengateError

router = APIRouter(prefix="/api/v1", tags=["auth"])
NO_CONTENT = status.HTTP_204_NO_CONTENT
T = TypeVar("T")


async def _answered(request: Request, step: Awaitable[T]) -> T | JSONResponse:
    try:
        return await step
    except TokengateError as error:
        return api_error_response(request, error)


@router.post("/auth/token", response_model=TokenPair)
async def issue_token(
    data: TokenRequest, request: Request, session: SessionDep, runtime: RuntimeDep
) -> TokenPair | JSONResponse:
    """Sign in with e-mail and password (and `totp` when the account has MFA)."""
    step = credentials.sign_in_for_tokens(
        session,
        box=runtime.box,
        settings=runtime.settings,
        email=data.email,
        password=data.password,
        code=data.totp,
        now=utcnow(),
    )
    return await _answered(request, step)


@router.post("/auth/refresh", response_model=TokenPair)
async def refresh_token(
    data: RefreshRequest, request: Request, session: SessionDep, runtime: RuntimeDep
) -> TokenPair | JSONResponse:
    """Trade a refresh token for a new pair (the old refresh token stops working)."""
    step = refresh.rotate_refresh_token(
        session, settings=runtime.settings, token=data.refresh_token, now=utcnow()
    )
    return await _answered(request, step)


@router.post("/auth/revoke", status_code=NO_CONTENT)
async def revoke_token(data: RefreshRequest, session: SessionDep) -> Response:
    """Sign out an API client: its refresh token and every token of the same sign-in."""
    await refresh.revoke_refresh_token(session, token=data.refresh_token, now=utcnow())
    return Response(status_code=NO_CONTENT)


@router.get("/me")
async def get_me(session: SessionDep, actor: ActorDep) -> MePublic:
    """The caller: account, effective roles, teams and whether MFA is on."""
    return await account.describe_caller(session, actor)


@router.post("/me/password", response_model=TokenPair)
async def change_password(
    data: PasswordChange,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    runtime: RuntimeDep,
) -> TokenPair | JSONResponse:
    """Change one's password; every earlier token and session ends, a new pair is returned."""
    user = await account.own_user(session, actor)
    now = utcnow()
    step = credentials.change_password(
        session,
        user_id=user.id,
        current_password=data.current_password,
        new_password=data.new_password,
        settings=runtime.settings,
        now=now,
    )
    if isinstance(refused := await _answered(request, step), JSONResponse):
        return refused
    await account.record_own_change(session, actor, user, "user.password_change")
    return await refresh.issue_token_pair(session, settings=runtime.settings, user=user, now=now)


@router.post("/me/mfa/enrol")
async def start_enrolment(session: SessionDep, actor: ActorDep, runtime: RuntimeDep) -> Enrolment:
    """Start (or restart) enrolling an authenticator app: its secret and QR code, shown once."""
    user = await account.own_user(session, actor)
    enrolment = await mfa.start_enrolment(session, box=runtime.box, user=user)
    await account.record_own_change(
        session, actor, user, "user.mfa_enrol", after={"confirmed": False}
    )
    return enrolment


@router.post("/me/mfa/confirm", response_model=RecoveryCodes)
async def confirm_enrolment(
    data: MfaCode, request: Request, session: SessionDep, actor: ActorDep, runtime: RuntimeDep
) -> RecoveryCodes | JSONResponse:
    """Turn MFA on with a first code from the app; returns ten recovery codes, shown once."""
    user = await account.own_user(session, actor)
    step = mfa.confirm_enrolment(
        session,
        box=runtime.box,
        settings=runtime.settings,
        user_id=user.id,
        code=data.code,
        now=utcnow(),
    )
    if isinstance(codes := await _answered(request, step), JSONResponse):
        return codes
    await account.record_own_change(
        session, actor, user, "user.mfa_confirm", after={"confirmed": True}
    )
    return RecoveryCodes(recovery_codes=codes)


@router.post("/me/mfa/disable", status_code=NO_CONTENT)
async def disable_mfa(
    data: MfaCode, request: Request, session: SessionDep, actor: ActorDep, runtime: RuntimeDep
) -> Response:
    """Turn MFA off with a current code or a recovery code (not while the tenant requires it)."""
    user = await account.own_user(session, actor)
    step = mfa.disable_mfa(
        session, box=runtime.box, settings=runtime.settings, user=user, code=data.code, now=utcnow()
    )
    if isinstance(refused := await _answered(request, step), JSONResponse):
        return refused
    await account.record_own_change(session, actor, user, "user.mfa_disable")
    return Response(status_code=NO_CONTENT)


@router.post("/me/mfa/recovery-codes", response_model=RecoveryCodes)
async def regenerate_recovery_codes(
    data: MfaCode, request: Request, session: SessionDep, actor: ActorDep, runtime: RuntimeDep
) -> RecoveryCodes | JSONResponse:
    """Ten new recovery codes; the previous ones stop working."""
    user = await account.own_user(session, actor)
    step = mfa.regenerate_recovery_codes(
        session,
        box=runtime.box,
        settings=runtime.settings,
        user_id=user.id,
        code=data.code,
        now=utcnow(),
    )
    if isinstance(codes := await _answered(request, step), JSONResponse):
        return codes
    await account.record_own_change(session, actor, user, "user.mfa_recovery_codes")
    return RecoveryCodes(recovery_codes=codes)


@router.post("/users/{user_id}/mfa/reset", status_code=NO_CONTENT)
async def reset_mfa(user_id: IdPath, session: SessionDep, actor: ActorDep) -> Response:
    """Remove a user's second factor (lost phone); their sessions and refresh tokens end."""
    tenant_id = await access.require_user(session, actor, user_id, Level.ADMIN)
    await mfa.reset_mfa(session, user_id=user_id, now=utcnow())
    await audit.record(
        session, actor, "user.mfa_reset", target_type="user", target_id=user_id, tenant_id=tenant_id
    )
    return Response(status_code=NO_CONTENT)


@router.get("/tenants/{tenant_id}/mfa-policy")
async def get_mfa_policy(
    tenant_id: IdPath, session: SessionDep, actor: ActorDep
) -> MfaPolicyPublic:
    """The roles the tenant requires MFA of."""
    await access.require_tenant(session, actor, tenant_id, Level.READ)
    return await mfa.get_mfa_policy(session, tenant_id=tenant_id)


@router.put("/tenants/{tenant_id}/mfa-policy")
async def set_mfa_policy(
    tenant_id: IdPath, data: MfaPolicy, session: SessionDep, actor: ActorDep
) -> MfaPolicyPublic:
    """Require MFA of some roles (or ``["all"]``, or nobody with ``[]``)."""
    await access.require_tenant(session, actor, tenant_id, Level.ADMIN)
    before = await mfa.get_mfa_policy(session, tenant_id=tenant_id)
    after = await mfa.set_mfa_policy(
        session, tenant_id=tenant_id, required_for=list(data.required_for)
    )
    await audit.record(
        session,
        actor,
        "tenant.mfa_policy",
        target_type="tenant",
        target_id=tenant_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


router.include_router(invitations_router)
