"""The second step of browser sign-in: TOTP or recovery codes, and enrolment when required."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from tests.auth.browser_support import (
    browser,
    hidden_field,
    password_login,
    signin_settings,
    use_session,
)
from tests.auth.factories import (
    Account,
    code_at,
    enrol,
    make_account,
    next_code,
    set_tenant,
    token_headers,
)
from tokengate.auth.sessions import COOKIE_NAME
from tokengate.db import utcnow
from tokengate.runtime import Runtime
from tokengate.settings import Settings

_SECRET = re.compile(r'id="secret" type="text" readonly value="(?P<secret>[A-Z2-7]+)"')
_CODE = re.compile(r"<li><code>(?P<code>[a-z0-9-]+)</code></li>")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return signin_settings(database_url)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as http:
        yield http


async def _with_mfa(client: httpx.AsyncClient, runtime: Runtime) -> tuple[Account, str, list[str]]:
    account = await make_account(runtime)
    secret, codes = await enrol(client, await token_headers(client, account))
    return account, secret, codes


def _wrong_code(secret: str) -> str:
    """A six-digit code that is none of the three the server accepts now."""
    now = utcnow()
    valid = {code_at(secret, now + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


async def test_a_password_is_not_enough_when_mfa_is_on(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account, _, _ = await _with_mfa(client, runtime)

    response = await password_login(client, account, next_path="/usage")

    assert response.status_code == 303
    assert response.headers["location"] == "/login/mfa?next=/usage"
    # half signed in: neither the pages nor the API open yet
    assert (await client.get("/")).headers["location"] == "/login/mfa?next=/"
    assert (await client.get("/api/v1/me")).status_code == 401
    page = await client.get("/login/mfa?next=/usage")
    assert page.status_code == 200
    assert '<label for="code">Code</label>' in page.text
    assert 'autocomplete="one-time-code"' in page.text


async def test_the_right_code_signs_in_under_a_new_cookie(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account, secret, _ = await _with_mfa(client, runtime)
    await password_login(client, account, next_path="/usage")
    pending = client.cookies[COOKIE_NAME]
    page = await client.get("/login/mfa?next=/usage")
    form = {"csrf_token": hidden_field(page.text, "csrf_token"), "next": "/usage"}

    wrong = await client.post("/login/mfa", data={**form, "code": _wrong_code(secret)})
    right = await client.post("/login/mfa", data={**form, "code": next_code(secret)})

    assert wrong.status_code == 401
    assert "the code is wrong, expired or already used" in wrong.text
    assert right.status_code == 303
    assert right.headers["location"] == "/usage"
    assert client.cookies[COOKIE_NAME] != pending
    assert (await client.get("/")).status_code == 200
    # the token seen before the second factor is worth nothing now
    use_session(client, pending)
    assert (await client.get("/")).headers["location"] == "/login?next=/&reason=expired"


async def test_a_recovery_code_works_once(client: httpx.AsyncClient, runtime: Runtime) -> None:
    account, _, codes = await _with_mfa(client, runtime)

    async def second_step() -> httpx.Response:
        await password_login(client, account)
        page = await client.get("/login/mfa")
        return await client.post(
            "/login/mfa",
            data={"csrf_token": hidden_field(page.text, "csrf_token"), "code": codes[0]},
        )

    first = await second_step()
    assert first.status_code == 303
    assert first.headers["location"] == "/"
    client.cookies.clear()
    assert (await second_step()).status_code == 401


async def test_the_code_form_needs_the_sessions_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account, secret, _ = await _with_mfa(client, runtime)
    await password_login(client, account)

    response = await client.post(
        "/login/mfa", data={"csrf_token": "forged", "code": next_code(secret)}
    )

    assert response.status_code == 403
    assert (await client.get("/")).headers["location"] == "/login/mfa?next=/"


async def test_a_tenant_requiring_mfa_has_newcomers_enrol_first(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    await set_tenant(runtime, account.tenant.id, mfa_required_for=["all"])

    response = await password_login(client, account)
    assert response.headers["location"] == "/login/mfa/enrol?next=/"
    pending = client.cookies[COOKIE_NAME]
    page = await client.get("/login/mfa/enrol")
    assert page.status_code == 200
    assert "<svg" in page.text
    match = _SECRET.search(page.text)
    assert match is not None
    secret = match["secret"]
    form = {"csrf_token": hidden_field(page.text, "csrf_token"), "next": "/"}

    wrong = await client.post("/login/mfa/enrol", data={**form, "code": _wrong_code(secret)})
    confirmed = await client.post(
        "/login/mfa/enrol", data={**form, "code": code_at(secret, utcnow())}
    )

    assert wrong.status_code == 400
    assert "Show a new QR code" in wrong.text
    assert confirmed.status_code == 200
    assert confirmed.headers["cache-control"] == "no-store"
    assert len(_CODE.findall(confirmed.text)) == 10
    assert client.cookies[COOKIE_NAME] != pending
    assert (await client.get("/")).status_code == 200
    # from now on the second factor is asked for, not an enrolment
    client.cookies.clear()
    again = await password_login(client, account)
    assert again.headers["location"] == "/login/mfa?next=/"
