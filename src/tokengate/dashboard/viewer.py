"""Who is looking at a dashboard page: their principal, language, timezone and form token.

A page without a live session sends the browser to ``/login?next=…`` (an htmx request gets an
``HX-Redirect`` instead, so a fragment never swaps a login form into a page). Every unsafe
request must carry the session's CSRF token, as the ``x-csrf-token`` header (htmx sends it on
every request) or as the ``csrf_token`` form field.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from tokengate.auth.principal import Principal
from tokengate.auth.service import principal_for_user
from tokengate.auth.sessions import COOKIE_NAME, CSRF_FIELD, CSRF_HEADER, load_session
from tokengate.db import utcnow
from tokengate.deps import SessionDep, client_ip
from tokengate.errors import Locale, PermissionDenied
from tokengate.i18n import LANGUAGE_COOKIE, SUPPORTED, pick_locale
from tokengate.runtime import get_runtime
from tokengate.tenancy.models import Tenant, User

DEFAULT_TIMEZONE = "Asia/Seoul"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STEPS = {"mfa": "/login/mfa", "enrol": "/login/mfa/enrol"}


class SignInNeeded(Exception):
    """The page needs a signed-in browser; ``location`` is where to send it."""

    def __init__(self, location: str, *, clear_cookie: bool) -> None:
        super().__init__(location)
        self.location = location
        self.clear_cookie = clear_cookie


@dataclass(frozen=True)
class Viewer:
    """The signed-in person a page is rendered for."""

    actor: Principal
    user_id: int
    name: str
    email: str
    tenant_id: int | None
    tenant_name: str | None
    locale: Locale
    timezone: str
    currency: str
    csrf_token: str

    @property
    def is_system(self) -> bool:
        return self.actor.is_system

    @property
    def is_admin(self) -> bool:
        """A system administrator, or the administrator of their tenant."""
        return self.actor.is_system or "tenant_admin" in self.actor.roles

    @property
    def is_leader(self) -> bool:
        """An administrator, or the leader of at least one team."""
        return self.is_admin or bool(self.actor.led_team_ids) or "team_leader" in self.actor.roles


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a whole page); restoring
    history after ``hx-push-url`` (the back button) wants the whole page."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def locale_for(request: Request, account_locale: str | None) -> Locale:
    """The switch (``?lang=`` or its cookie), else the account's language, else the browser's,
    else the configured default."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in SUPPORTED:
        return "en" if chosen == "en" else "ko"
    if account_locale in SUPPORTED:
        return "en" if account_locale == "en" else "ko"
    return pick_locale(
        accept_language=request.headers.get("accept-language"),
        account_locale=None,
        fallback=get_runtime(request).settings.default_locale,
    )


async def _viewer(request: Request, session: SessionDep) -> Viewer:
    request.state.surface = "dashboard"
    runtime = get_runtime(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        raise SignInNeeded(f"/login?next={quote(here)}", clear_cookie=False)
    row = await load_session(session, token, settings=runtime.settings, now=utcnow())
    if row is None:
        raise SignInNeeded(f"/login?next={quote(here)}&reason=expired", clear_cookie=True)
    if row.stage != "active":
        raise SignInNeeded(
            f"{_STEPS.get(row.stage, '/login')}?next={quote(here)}", clear_cookie=False
        )
    actor = await principal_for_user(session, row.user_id, auth_version=None, ip=client_ip(request))
    user = await session.get(User, row.user_id)
    if actor is None or user is None:
        raise SignInNeeded(f"/login?next={quote(here)}&reason=expired", clear_cookie=True)
    if request.method not in _SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else ""
        if not hmac.compare_digest(given.encode(), row.csrf_token.encode()):
            raise PermissionDenied(
                localized={
                    "en": "The form could not be verified. Reload the page and try again.",
                    "ko": "양식을 확인할 수 없습니다. 페이지를 새로고침한 후 다시 시도하세요.",
                },
            )
    tenant = await session.get(Tenant, user.tenant_id) if user.tenant_id is not None else None
    viewer = Viewer(
        actor=actor,
        user_id=user.id,
        name=user.name,
        email=user.email,
        tenant_id=user.tenant_id,
        tenant_name=tenant.name if tenant else None,
        locale=locale_for(request, user.locale),
        timezone=tenant.timezone if tenant else DEFAULT_TIMEZONE,
        currency=tenant.currency if tenant else "USD",
        csrf_token=row.csrf_token,
    )
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer, Depends(_viewer)]
