"""What the sign-in views share: the language, templates, cookies and safe redirects."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import structlog
from fastapi import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from tokengate.auth import csrf, signin
from tokengate.auth.models import AuthSession
from tokengate.auth.sessions import COOKIE_NAME
from tokengate.auth.texts import texts
from tokengate.db import utcnow
from tokengate.deps import SessionDep, client_ip
from tokengate.errors import Locale, TokengateError, status_of
from tokengate.i18n import LANGUAGE_COOKIE, SUPPORTED, pick_locale
from tokengate.runtime import Runtime
from tokengate.settings import Settings
from tokengate.tenancy.models import User

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_MAX_NEXT = 500
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}
log = structlog.get_logger()


@cache
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=TEMPLATES)


def sign_in_of(request: Request) -> signin.SignIn:
    """The process's sign-in providers, built by create_app."""
    sign_in: signin.SignIn = request.app.state.sign_in
    return sign_in


def locale_of(request: Request, settings: Settings) -> Locale:
    """``?lang=``, else the dashboard's language switch (its cookie), else the browser's
    Accept-Language, else the default locale."""
    asked = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if asked in SUPPORTED:
        return "en" if asked == "en" else "ko"
    return pick_locale(
        accept_language=request.headers.get("accept-language"),
        account_locale=None,
        fallback=settings.default_locale,
    )


def render(
    request: Request,
    template: str,
    *,
    locale: Locale,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A sign-in page: never cached (it may hold a CSRF token or recovery codes), never framed
    by another site (clickjacking)."""
    return _templates().TemplateResponse(
        request,
        template,
        {"locale": locale, "t": texts(locale), **context},
        status_code=status_code,
        headers={**_PAGE_HEADERS, **(headers or {})},
    )


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: a path on this site, never another site (no open redirect)."""
    if not value or len(value) > _MAX_NEXT or not value.startswith("/"):
        return "/"
    parts = urlsplit(value)
    # "//evil" and "/\evil" are other sites to a browser
    if value.startswith("//") or "\\" in value or parts.scheme or parts.netloc:
        return "/"
    if any(ord(c) < 0x20 or c == "\x7f" for c in value):
        return "/"
    return value


def redirect(url: str) -> RedirectResponse:
    """A 303: the browser follows with a GET."""
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    """Give the browser its session token: not readable by scripts, not sent cross-site.

    No Max-Age: the cookie ends with the browser, and the server ends the session anyway.
    """
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME, httponly=True, samesite="lax", secure=settings.cookie_secure, path="/"
    )


def callback_url(request: Request, settings: Settings, provider: str) -> str:
    """The redirect URI registered at the provider: from TOKENGATE_PUBLIC_URL when set."""
    base = settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/auth/callback/{provider}"


async def session_of(request: Request, session: SessionDep, runtime: Runtime) -> AuthSession | None:
    """The live session of the request's cookie, if any (at any stage)."""
    return await signin.current_session(
        session,
        token=request.cookies.get(COOKIE_NAME),
        settings=runtime.settings,
        now=utcnow(),
    )


async def signed_in(
    request: Request,
    session: SessionDep,
    runtime: Runtime,
    *,
    user: User,
    method: str,
    target: str,
) -> Response:
    """The first factor succeeded: open the session and send the browser on (to ``target``,
    or to the second factor first)."""
    token, stage = await signin.begin_session(
        session,
        user=user,
        method=method,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        settings=runtime.settings,
        now=utcnow(),
        previous_token=request.cookies.get(COOKIE_NAME),
    )
    log.info(
        "sign-in",
        method=method,
        outcome=stage,
        user_id=user.id,
        email_domain=user.email.rpartition("@")[2],
    )
    steps = {"mfa": "/login/mfa", "enrol": "/login/mfa/enrol"}
    response = redirect(target if stage == "active" else f"{steps[stage]}?next={quote(target)}")
    set_session_cookie(response, token, runtime.settings)
    response.delete_cookie(
        csrf.LOGIN_COOKIE,
        path="/login",
        secure=runtime.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response


def login_page(
    request: Request,
    runtime: Runtime,
    *,
    locale: Locale,
    next_path: str,
    email: str = "",
    notice: str | None = None,
    message: str | None = None,
    failure: TokengateError | None = None,
    status_code: int = 200,
) -> Response:
    """The login page with a fresh form token and, maybe, what went wrong (400 unless said)."""
    headers: dict[str, str] = {}
    if failure is not None:
        message, status_code, headers = (
            failure.message(locale),
            status_of(failure),
            failure.headers(),
        )
    elif message is not None and status_code == 200:
        status_code = 400
    token = csrf.new_token()
    providers = [(p.name, p.title) for p in sign_in_of(request).providers.values()]
    response = render(
        request,
        "login.html",
        locale=locale,
        status_code=status_code,
        headers=headers,
        csrf_token=token,
        providers=providers,
        next=next_path,
        email=email,
        notice=notice,
        error=message,
    )
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        max_age=csrf.LOGIN_COOKIE_SECONDS,
        path="/login",
        secure=runtime.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response


def log_failure(
    method: str, reason: str, *, email: str | None = None, user_id: int | None = None
) -> None:
    """Log a refused sign-in: never a password, code or token; of the e-mail, its domain."""
    domain = email.rpartition("@")[2][:255] if email else None
    log.warning(
        "sign-in refused", method=method, reason=reason, email_domain=domain, user_id=user_id
    )
