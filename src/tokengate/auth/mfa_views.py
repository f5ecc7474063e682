"""The second step of browser sign-in: a TOTP or recovery code, or the enrolment a tenant
requires. Either way the session becomes active under a new token once it is done."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from tokengate.auth import csrf, signin
from tokengate.auth.mfa import confirm_enrolment, start_enrolment, verify_second_factor
from tokengate.auth.models import AuthSession
from tokengate.auth.pages import (
    locale_of,
    log,
    log_failure,
    redirect,
    render,
    safe_next,
    session_of,
    set_session_cookie,
)
from tokengate.auth.sessions import COOKIE_NAME
from tokengate.auth.texts import texts
from tokengate.db import utcnow
from tokengate.deps import RuntimeDep, SessionDep
from tokengate.errors import TokengateError, status_of
from tokengate.runtime import Runtime

router = APIRouter(tags=["sign-in"], include_in_schema=False)
NextQuery = Annotated[str | None, Query(alias="next")]
NextForm = Annotated[str, Form(alias="next")]
FormText = Annotated[str, Form()]
Mode = Literal["verify", "enrol", "codes"]
_MAX_CODE = 64


@router.get("/login/mfa")
async def mfa_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, next_: NextQuery = None
) -> Response:
    """The second factor's form: a code from the authenticator app or a recovery code."""
    row = await session_of(request, session, runtime)
    target = safe_next(next_)
    if row is None or row.stage != "mfa":
        return redirect(f"/login?next={quote(target)}")
    return _page(request, runtime, row=row, mode="verify", next_path=target)


@router.post("/login/mfa")
async def mfa_verify(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    code: FormText = "",
    csrf_token: FormText = "",
    next_: NextForm = "/",
) -> Response:
    """Check the second factor, then go on signed in."""
    row = await session_of(request, session, runtime)
    target = safe_next(next_)
    if row is None or row.stage != "mfa":
        return redirect(f"/login?reason=expired&next={quote(target)}")
    if not csrf.matches(row.csrf_token, csrf_token):
        return _page(request, runtime, row=row, mode="verify", next_path=target, forged=True)
    try:
        await verify_second_factor(
            session,
            box=runtime.box,
            settings=runtime.settings,
            user_id=row.user_id,
            code=code[:_MAX_CODE],
            now=utcnow(),
        )
    except TokengateError as exc:
        log_failure("mfa", exc.code, user_id=row.user_id)
        return _page(request, runtime, row=row, mode="verify", next_path=target, failure=exc)
    return await _activate(request, session, runtime, row=row, response=redirect(target))


@router.get("/login/mfa/enrol")
async def enrol_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, next_: NextQuery = None
) -> Response:
    """The enrolment the tenant requires: a new secret as a QR code, and a field for its code."""
    row = await session_of(request, session, runtime)
    target = safe_next(next_)
    if row is None or row.stage != "enrol":
        return redirect(f"/login?next={quote(target)}")
    user = await signin.get_user(session, user_id=row.user_id)
    enrolment = await start_enrolment(session, box=runtime.box, user=user)
    return _page(request, runtime, row=row, mode="enrol", next_path=target, enrolment=enrolment)


@router.post("/login/mfa/enrol")
async def enrol_confirm(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    code: FormText = "",
    csrf_token: FormText = "",
    next_: NextForm = "/",
) -> Response:
    """Confirm the enrolment with a code; show the recovery codes once, signed in."""
    row = await session_of(request, session, runtime)
    target = safe_next(next_)
    if row is None or row.stage != "enrol":
        return redirect(f"/login?reason=expired&next={quote(target)}")
    if not csrf.matches(row.csrf_token, csrf_token):
        return _page(request, runtime, row=row, mode="enrol", next_path=target, forged=True)
    try:
        codes = await confirm_enrolment(
            session,
            box=runtime.box,
            settings=runtime.settings,
            user_id=row.user_id,
            code=code[:_MAX_CODE],
            now=utcnow(),
        )
    except TokengateError as exc:
        log_failure("mfa_enrol", exc.code, user_id=row.user_id)
        return _page(request, runtime, row=row, mode="enrol", next_path=target, failure=exc)
    page = _page(request, runtime, row=row, mode="codes", next_path=target, codes=codes)
    return await _activate(request, session, runtime, row=row, response=page)


async def _activate(
    request: Request,
    session: SessionDep,
    runtime: Runtime,
    *,
    row: AuthSession,
    response: Response,
) -> Response:
    new_token = await signin.activate(
        session,
        row=row,
        token=request.cookies.get(COOKIE_NAME, ""),
        settings=runtime.settings,
        now=utcnow(),
    )
    log.info("sign-in", method="mfa", outcome="active", user_id=row.user_id)
    set_session_cookie(response, new_token, runtime.settings)
    return response


def _page(
    request: Request,
    runtime: Runtime,
    *,
    row: AuthSession,
    mode: Mode,
    next_path: str,
    failure: TokengateError | None = None,
    forged: bool = False,
    **context: object,
) -> Response:
    locale = locale_of(request, runtime.settings)
    error = texts(locale)["csrf_failed"] if forged else None
    status_code = 403 if forged else 200
    headers: dict[str, str] = {}
    if failure is not None:
        error, status_code, headers = failure.message(locale), status_of(failure), failure.headers()
    return render(
        request,
        "mfa.html",
        locale=locale,
        status_code=status_code,
        headers=headers,
        mode=mode,
        csrf_token=row.csrf_token,
        next=next_path,
        error=error,
        **context,
    )
