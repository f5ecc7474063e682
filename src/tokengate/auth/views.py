"""Browser sign-in: the login page, OIDC redirects and callbacks, the MFA step, logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from tokengate.auth import csrf, signin
from tokengate.auth.credentials import check_password
from tokengate.auth.mfa_views import router as mfa_router
from tokengate.auth.pages import (
    callback_url,
    clear_session_cookie,
    locale_of,
    log,
    log_failure,
    login_page,
    redirect,
    render,
    safe_next,
    session_of,
    sign_in_of,
    signed_in,
)
from tokengate.auth.sessions import COOKIE_NAME, CSRF_HEADER, end_session
from tokengate.auth.texts import texts
from tokengate.db import utcnow
from tokengate.deps import RuntimeDep, SessionDep
from tokengate.errors import AuthenticationFailed, TokengateError

router = APIRouter(tags=["sign-in"], include_in_schema=False)
# first: /login/mfa must win over /login/{provider}
router.include_router(mfa_router)
NextQuery = Annotated[str | None, Query(alias="next")]
NextForm = Annotated[str, Form(alias="next")]
FormText = Annotated[str, Form()]
# longer input is no e-mail address or password anyone has: refused without hashing it
_MAX_EMAIL, _MAX_PASSWORD = 320, 1024
_NOTICES = frozenset({"expired", "signed_out"})


@router.get("/login")
async def show_login(
    request: Request, session: SessionDep, runtime: RuntimeDep, next_: NextQuery = None
) -> Response:
    """The sign-in page; someone already signed in goes straight on."""
    target = safe_next(next_)
    row = await session_of(request, session, runtime)
    if row is not None and row.stage == "active":
        return redirect(target)
    locale = locale_of(request, runtime.settings)
    reason = request.query_params.get("reason", "")
    notice = texts(locale)[reason] if reason in _NOTICES else None
    return login_page(request, runtime, locale=locale, next_path=target, notice=notice)


@router.post("/login")
async def password_login(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    email: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
    next_: NextForm = "/",
) -> Response:
    """Check the e-mail and password, then open the session (or ask for the second factor)."""
    locale = locale_of(request, runtime.settings)
    target = safe_next(next_)
    words = texts(locale)
    email = email.strip()
    if not csrf.matches(request.cookies.get(csrf.LOGIN_COOKIE), csrf_token):
        log_failure("password", "csrf", email=email)
        return login_page(
            request,
            runtime,
            locale=locale,
            next_path=target,
            email=email[:_MAX_EMAIL],
            message=words["form_expired"],
            status_code=403,
        )
    try:
        if len(email) > _MAX_EMAIL or len(password) > _MAX_PASSWORD:
            raise AuthenticationFailed(words["wrong_credentials"])
        user = await check_password(
            session, email=email, password=password, settings=runtime.settings, now=utcnow()
        )
    except TokengateError as exc:
        log_failure("password", exc.code, email=email)
        return login_page(
            request, runtime, locale=locale, next_path=target, email=email[:_MAX_EMAIL], failure=exc
        )
    return await signed_in(request, session, runtime, user=user, method="password", target=target)


@router.get("/login/{provider}")
async def external_login(
    provider: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    next_: NextQuery = None,
) -> Response:
    """Send the browser to the provider, remembering the attempt for its callback."""
    target = safe_next(next_)
    try:
        url = await signin.start_external(
            session,
            sign_in=sign_in_of(request),
            http=runtime.http,
            provider_name=provider,
            redirect_uri=callback_url(request, runtime.settings, provider),
            next_path=target,
            now=utcnow(),
        )
    except TokengateError as exc:
        log_failure(provider, exc.code)
        locale = locale_of(request, runtime.settings)
        return login_page(request, runtime, locale=locale, next_path=target, failure=exc)
    return redirect(url)


@router.get("/auth/callback/{provider}")
async def external_callback(
    provider: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """The provider sends the browser back here with a code (or an error)."""
    locale = locale_of(request, runtime.settings)
    if error or not code or not state:
        if state:  # the attempt is over either way
            await signin.take_flow(session, provider_name=provider, state=state, now=utcnow())
        log_failure(provider, f"provider_error:{(error or 'no_code')[:50]}")
        words = texts(locale)
        message = (
            words["provider_error"].format(provider=provider, error=error[:100])
            if error
            else words["missing_code"]
        )
        return login_page(request, runtime, locale=locale, next_path="/", message=message)
    try:
        user, target = await signin.finish_external(
            session,
            sign_in=sign_in_of(request),
            http=runtime.http,
            provider_name=provider,
            redirect_uri=callback_url(request, runtime.settings, provider),
            code=code,
            state=state,
            now=utcnow(),
        )
    except TokengateError as exc:
        log_failure(provider, exc.code)
        return login_page(request, runtime, locale=locale, next_path="/", failure=exc)
    return await signed_in(
        request, session, runtime, user=user, method=provider, target=safe_next(target)
    )


@router.post("/logout")
async def logout(
    request: Request, session: SessionDep, runtime: RuntimeDep, csrf_token: FormText = ""
) -> Response:
    """End the session (its token stops working at once) and forget the cookie."""
    token = request.cookies.get(COOKIE_NAME)
    row = await session_of(request, session, runtime)
    if token and row is not None:
        given = csrf_token or request.headers.get(CSRF_HEADER)
        if not csrf.matches(row.csrf_token, given):
            log_failure("logout", "csrf", user_id=row.user_id)
            locale = locale_of(request, runtime.settings)
            words = texts(locale)
            return render(
                request,
                "message.html",
                locale=locale,
                status_code=403,
                title=words["sign_out"],
                message=words["csrf_failed"],
            )
        await end_session(session, token, now=utcnow())
        log.info("sign-out", user_id=row.user_id)
    response = redirect("/login?reason=signed_out")
    clear_session_cookie(response, runtime.settings)
    return response
