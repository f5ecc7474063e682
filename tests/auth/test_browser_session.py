"""Browser sign-in with a password: the login page, the session cookie, timeouts, logout, CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.auth.browser_support import (
    browser,
    cookie_header,
    hidden_field,
    password_login,
    signin_settings,
    stored_session,
    use_session,
)
from tests.auth.factories import make_account, set_tenant
from tokengate.app import create_app
from tokengate.auth.csrf import LOGIN_COOKIE
from tokengate.auth.models import AuthSession
from tokengate.auth.sessions import COOKIE_NAME, token_hash
from tokengate.db import transaction, utcnow
from tokengate.runtime import Runtime
from tokengate.settings import Settings

GITHUB = {
    "name": "github",
    "kind": "github",
    "label": "GitHub",
    "client_id": "a",
    "client_secret": "b",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return signin_settings(database_url, providers=[GITHUB], login_max_failures=3)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as http:
        yield http


async def test_the_login_page_has_a_labelled_form_and_a_button_per_provider(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert '<label for="email">E-mail</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert 'href="/login/github?next=/"' in page.text
    assert "Sign in with GitHub" in page.text
    form_cookie = cookie_header(page, LOGIN_COOKIE).lower()
    assert "httponly" in form_cookie
    assert "samesite=lax" in form_cookie
    assert "secure" in form_cookie
    assert hidden_field(page.text, "csrf_token") == client.cookies[LOGIN_COOKIE]
    stylesheet = await client.get("/static/tokengate.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")


async def test_the_login_page_speaks_korean_when_asked(client: httpx.AsyncClient) -> None:
    by_header = await client.get("/login", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    by_parameter = await client.get("/login?lang=ko", headers={"Accept-Language": "en"})

    for page in (by_header, by_parameter):
        assert '<html lang="ko">' in page.text
        assert '<label for="password">비밀번호</label>' in page.text
    assert '<html lang="en">' in (await client.get("/login")).text


async def test_a_password_sign_in_sets_a_safe_cookie_and_shows_the_home_page(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime, roles=["member", "tenant_admin"])

    response = await password_login(client, account, next_path="/reports?month=5")

    assert response.status_code == 303
    assert response.headers["location"] == "/reports?month=5"
    cookie = cookie_header(response, COOKIE_NAME)
    flags = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert set(flags) == {"httponly", "samesite=lax", "secure", "path=/"}
    home = await client.get("/")
    assert home.status_code == 200
    # the dashboard, for this tenant administrator: their name and tenant, the admin pages
    assert account.user.name in home.text
    assert account.tenant.name in home.text
    assert 'href="/tenants"' in home.text
    assert '<form method="post" action="/logout" class="inline">' in home.text


async def test_the_secure_flag_follows_the_setting(database_url: str) -> None:
    plain_http = create_app(signin_settings(database_url, cookie_secure=False))
    async with plain_http.router.lifespan_context(plain_http), browser(plain_http) as client:
        account = await make_account(plain_http.state.runtime)
        response = await password_login(client, account)

    assert response.status_code == 303
    assert "secure" not in cookie_header(response, COOKIE_NAME).lower()


async def test_a_wrong_password_shows_the_form_again_with_a_message(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)

    response = await password_login(client, account, password="not the password")

    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert "wrong e-mail or password" in response.text
    assert f'value="{account.email}"' in response.text
    assert COOKIE_NAME not in client.cookies


async def test_repeated_failures_lock_the_account_and_say_how_long(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    for _ in range(2):
        assert (await password_login(client, account, password="nope")).status_code == 401

    locked = await password_login(client, account, password="nope")
    still_locked = await password_login(client, account)

    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) == runtime.settings.login_lockout_seconds
    assert f"Try again in {runtime.settings.login_lockout_seconds} seconds" in locked.text
    assert still_locked.status_code == 429


async def test_the_login_form_needs_its_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    await client.get("/login")
    form = {"email": account.email, "password": account.password, "next": "/"}

    missing = await client.post("/login", data=form)
    forged = await client.post("/login", data={**form, "csrf_token": "guessed"})

    for response in (missing, forged):
        assert response.status_code == 403
        assert "The sign-in form has expired" in response.text
    assert COOKIE_NAME not in client.cookies


async def test_a_tenant_without_local_passwords_points_to_its_provider(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    await set_tenant(runtime, account.tenant.id, local_login=False)

    response = await password_login(client, account)

    assert response.status_code == 403
    assert "identity provider" in response.text


async def test_a_signed_in_visitor_skips_the_login_page(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await password_login(client, await make_account(runtime))

    plain = await client.get("/login")
    onwards = await client.get("/login?next=/usage")

    assert (plain.status_code, plain.headers["location"]) == (303, "/")
    assert (onwards.status_code, onwards.headers["location"]) == (303, "/usage")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
async def test_next_never_leads_to_another_site(
    client: httpx.AsyncClient, runtime: Runtime, target: str
) -> None:
    account = await make_account(runtime)

    signed_in = await password_login(client, account, next_path=target)
    visited = await client.get("/login", params={"next": target})

    assert signed_in.headers["location"] == "/"
    assert visited.headers["location"] == "/"


async def test_the_home_page_sends_strangers_to_the_login_page(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


async def test_an_idle_session_expires(client: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    idle = runtime.settings.session_idle() + timedelta(seconds=1)
    use_session(client, await stored_session(runtime, account.user.id, now=utcnow() - idle))

    response = await client.get("/")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/&reason=expired"
    page = await client.get(response.headers["location"])
    assert "Your session has expired. Please sign in again." in page.text


async def test_a_busy_session_still_ends_after_the_absolute_timeout(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    opened = utcnow() - runtime.settings.session_absolute() - timedelta(seconds=1)
    token = await stored_session(runtime, account.user.id, now=opened)
    async with transaction(runtime.sessions) as session:
        # in use a moment ago: only the absolute timeout can end it
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == token_hash(token))
            .values(last_seen_at=utcnow())
        )
    use_session(client, token)

    response = await client.get("/")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/&reason=expired"


async def test_a_fresh_session_opens_the_home_page(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    use_session(client, await stored_session(runtime, account.user.id, now=utcnow()))

    assert (await client.get("/")).status_code == 200


async def test_logout_ends_the_session_for_good(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await password_login(client, await make_account(runtime))
    token = client.cookies[COOKIE_NAME]
    home = await client.get("/")

    response = await client.post(
        "/logout", data={"csrf_token": hidden_field(home.text, "csrf_token")}
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/login?reason=signed_out"
    assert COOKIE_NAME not in client.cookies
    assert "You have signed out." in (await client.get(response.headers["location"])).text
    # the old cookie, replayed, opens nothing: not the page, not the API
    use_session(client, token)
    assert (await client.get("/")).headers["location"] == "/login?next=/&reason=expired"
    use_session(client, token)
    assert (await client.get("/api/v1/me")).status_code == 401


@pytest.mark.parametrize("given", [None, "", "not-the-token"])
async def test_logout_needs_the_sessions_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime, given: str | None
) -> None:
    await password_login(client, await make_account(runtime))

    response = await client.post("/logout", data={} if given is None else {"csrf_token": given})

    assert response.status_code == 403
    assert "The form could not be verified" in response.text
    assert (await client.get("/")).status_code == 200


async def test_logout_cannot_be_triggered_by_a_get(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await password_login(client, await make_account(runtime))

    assert (await client.get("/logout")).status_code == 405
    assert (await client.get("/")).status_code == 200


async def test_signing_in_ends_the_half_finished_session_of_the_browser(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    # someone else stopped at the second factor in this browser
    other = await make_account(runtime)
    earlier = await stored_session(runtime, other.user.id, now=utcnow(), stage="mfa")
    use_session(client, earlier)

    assert (await password_login(client, account)).status_code == 303

    assert client.cookies[COOKIE_NAME] != earlier
    async with transaction(runtime.sessions) as session:
        row = await session.get(AuthSession, token_hash(earlier))
        assert row is not None
        assert row.revoked_at is not None
