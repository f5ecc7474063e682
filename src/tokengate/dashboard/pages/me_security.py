"""보안 / Security: one's second factor (TOTP) and password, as ``/api/v1/me/mfa/*`` and
``/api/v1/me/password`` change them: the same ``auth.mfa`` and ``auth.credentials`` calls and the
same audit records.

A refused code or password is answered, not raised: the request's transaction then still
commits the failed attempt, which counts towards the lockout (as the API does).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from tokengate.auth import account, credentials, mfa, signin
from tokengate.auth.pages import set_session_cookie
from tokengate.auth.passwords import MIN_PASSWORD_LENGTH
from tokengate.auth.schemas import Enrolment
from tokengate.auth.sessions import COOKIE_NAME, open_session
from tokengate.dashboard.errors import error_page
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep, is_htmx
from tokengate.db import utcnow
from tokengate.deps import SessionDep, client_ip
from tokengate.errors import InvalidRequest, TokengateError
from tokengate.runtime import get_runtime

router = APIRouter()
Code = Annotated[str, Form(min_length=1, max_length=64)]
Secret = Annotated[str, Form(min_length=1, max_length=1024)]
Done = Literal["mfa_on", "codes", "mfa_off", "password"]
T = TypeVar("T")


@router.get("/me/security")
async def security(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    changed: Literal["password"] | None = None,
) -> Response:
    """Whether two-step verification is on, and the forms to change it and the password."""
    return await _security_page(request, viewer, session, done=changed)


@router.post("/me/security/mfa/enrol")
async def start_enrolment(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """A new authenticator secret and its QR code, shown once, to be confirmed with a code."""
    user = await account.own_user(session, viewer.actor)
    enrolment = await mfa.start_enrolment(session, box=get_runtime(request).box, user=user)
    await account.record_own_change(
        session, viewer.actor, user, "user.mfa_enrol", after={"confirmed": False}
    )
    return await _security_page(request, viewer, session, enrolment=enrolment)


@router.post("/me/security/mfa/confirm")
async def confirm_enrolment(
    request: Request, viewer: ViewerDep, session: SessionDep, code: Code
) -> Response:
    """Turn two-step verification on; the ten recovery codes are shown this once."""
    runtime = get_runtime(request)
    user = await account.own_user(session, viewer.actor)
    step = mfa.confirm_enrolment(
        session,
        box=runtime.box,
        settings=runtime.settings,
        user_id=user.id,
        code=code,
        now=utcnow(),
    )
    if isinstance(codes := await _answered(request, step), Response):
        return codes
    await account.record_own_change(
        session, viewer.actor, user, "user.mfa_confirm", after={"confirmed": True}
    )
    return await _security_page(request, viewer, session, codes=codes, done="mfa_on")


@router.post("/me/security/mfa/recovery-codes")
async def new_recovery_codes(
    request: Request, viewer: ViewerDep, session: SessionDep, code: Code
) -> Response:
    """Ten new recovery codes (the old ones stop working), proven by a current code."""
    runtime = get_runtime(request)
    user = await account.own_user(session, viewer.actor)
    step = mfa.regenerate_recovery_codes(
        session,
        box=runtime.box,
        settings=runtime.settings,
        user_id=user.id,
        code=code,
        now=utcnow(),
    )
    if isinstance(codes := await _answered(request, step), Response):
        return codes
    await account.record_own_change(session, viewer.actor, user, "user.mfa_recovery_codes")
    return await _security_page(request, viewer, session, codes=codes, done="codes")


@router.post("/me/security/mfa/disable")
async def disable_mfa(
    request: Request, viewer: ViewerDep, session: SessionDep, code: Code
) -> Response:
    """Turn two-step verification off with a current code (not while the tenant requires it)."""
    runtime = get_runtime(request)
    user = await account.own_user(session, viewer.actor)
    step = mfa.disable_mfa(
        session, box=runtime.box, settings=runtime.settings, user=user, code=code, now=utcnow()
    )
    if isinstance(refused := await _answered(request, step), Response):
        return refused
    await account.record_own_change(session, viewer.actor, user, "user.mfa_disable")
    return await _security_page(request, viewer, session, done="mfa_off")


@router.post("/me/security/password")
async def change_password(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    current_password: Secret,
    new_password: Secret,
    confirm_password: Secret,
) -> Response:
    """Change one's password: every other session ends; this browser stays signed in."""
    if new_password != confirm_password:
        raise InvalidRequest(
            localized={
                "en": "The new password and its confirmation differ.",
                "ko": "새 비밀번호와 확인 입력이 서로 다릅니다.",
            },
            param="confirm_password",
        )
    runtime = get_runtime(request)
    user = await account.own_user(session, viewer.actor)
    now = utcnow()
    current = await signin.current_session(
        session, token=request.cookies.get(COOKIE_NAME), settings=runtime.settings, now=now
    )
    step = credentials.change_password(
        session,
        user_id=user.id,
        current_password=current_password,
        new_password=new_password,
        settings=runtime.settings,
        now=now,
    )
    if isinstance(refused := await _answered(request, step), Response):
        return refused
    await account.record_own_change(session, viewer.actor, user, "user.password_change")
    # the change ended every session of the account, this one too: this browser gets a new one
    token, _ = await open_session(
        session,
        user_id=user.id,
        stage="active",
        method=current.method if current else "password",
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        settings=runtime.settings,
        now=now,
    )
    target = "/me/security?changed=password"
    response: Response = (
        Response(status_code=200, headers={"HX-Redirect": target})
        if is_htmx(request)
        else RedirectResponse(target, status_code=303)
    )
    set_session_cookie(response, token, runtime.settings)
    return response


async def _answered(request: Request, step: Awaitable[T]) -> T | Response:
    """The step's result, or the page that explains its refusal."""
    try:
        return await step
    except TokengateError as error:
        return error_page(request, error)


async def _security_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    *,
    enrolment: Enrolment | None = None,
    codes: list[str] | None = None,
    done: Done | None = None,
) -> Response:
    user = await account.own_user(session, viewer.actor)
    return page(
        request,
        viewer,
        "dashboard/me_security.html",
        mfa_on=await mfa.mfa_enabled(session, user.id),
        mfa_required=await mfa.required_by_tenant(session, user),
        enrolment=enrolment,
        codes=codes,
        done=done,
        min_password_length=MIN_PASSWORD_LENGTH,
    )
