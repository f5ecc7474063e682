"""Sign-in with GitHub: tokengate's real code against a small stand-in for GitHub's three
endpoints (authorize, access_token, the user API) on a loopback port."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI
from sqlalchemy import select

from tests.auth.browser_support import browser, signin_settings
from tests.auth.factories import make_tenant_with_plan
from tests.conftest import MASTER_KEY
from tokengate.auth.models import ExternalIdentity
from tokengate.auth.sessions import COOKIE_NAME
from tokengate.db import transaction
from tokengate.runtime import Runtime
from tokengate.settings import Settings

CLIENT_ID, CLIENT_SECRET = "gh-client", "gh-secret"


@dataclass
class FakeGithub:
    """GitHub's side of the flow; the test says who signs in next."""

    base_url: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    emails: list[dict[str, Any]] = field(default_factory=list)
    fail_user_api: bool = False
    _codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    _tokens: set[str] = field(default_factory=set)

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        # the person approves at once: back to the app with a code bound to the PKCE challenge
        query = request.query
        assert query["client_id"] == CLIENT_ID
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_hex(10)
        self._codes[code] = (query["code_challenge"], query["redirect_uri"])
        back = urlencode({"code": code, "state": query["state"]})
        raise web.HTTPFound(f"{query['redirect_uri']}?{back}")

    async def access_token(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
        answer: dict[str, str] = {"error": "bad_verification_code"}
        challenge, redirect_uri = self._codes.pop(str(form["code"]), ("", ""))
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        if challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode() and (
            form["redirect_uri"] == redirect_uri
        ):
            token = f"gho_{secrets.token_hex(8)}"
            self._tokens.add(token)
            answer = {"access_token": token, "token_type": "bearer", "scope": "read:user"}
        if request.headers.get("Accept") != "application/json":
            return web.Response(text=urlencode(answer))  # GitHub's default answer
        return web.json_response(answer)

    def _check(self, request: web.Request) -> None:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self._tokens:
            raise web.HTTPUnauthorized()
        if self.fail_user_api:
            raise web.HTTPBadGateway()

    async def get_user(self, request: web.Request) -> web.StreamResponse:
        self._check(request)
        return web.json_response(self.user)

    async def get_emails(self, request: web.Request) -> web.StreamResponse:
        self._check(request)
        return web.json_response(self.emails)


@pytest.fixture
async def github() -> AsyncIterator[FakeGithub]:
    fake = FakeGithub()
    server = web.Application()
    server.router.add_get("/login/oauth/authorize", fake.authorize)
    server.router.add_post("/login/oauth/access_token", fake.access_token)
    server.router.add_get("/api/user", fake.get_user)
    server.router.add_get("/api/user/emails", fake.get_emails)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.base_url = f"http://{host}:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
def settings(database_url: str, github: FakeGithub) -> Settings:
    provider = {
        "name": "github",
        "kind": "github",
        "label": "GitHub",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authorize_url": f"{github.base_url}/login/oauth/authorize",
        "token_url": f"{github.base_url}/login/oauth/access_token",
        "api_url": f"{github.base_url}/api",
    }
    return signin_settings(database_url, providers=[provider])


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as http:
        yield http


async def _sign_in(client: httpx.AsyncClient, *, tamper: bool = False) -> httpx.Response:
    start = await client.get("/login/github")
    assert start.status_code == 303, start.text
    async with httpx.AsyncClient() as outside:
        approved = await outside.get(start.headers["location"])
    assert approved.status_code == 302
    back = urlsplit(approved.headers["location"])
    query = parse_qs(back.query)
    code = "not-the-code" if tamper else query["code"][0]
    return await client.get(back.path, params={"code": code, "state": query["state"][0]})


async def _mapped_tenant(client: httpx.AsyncClient, runtime: Runtime, domain: str) -> int:
    tenant = await make_tenant_with_plan(runtime)
    mapped = await client.post(
        f"/api/v1/tenants/{tenant.id}/domains",
        json={"domain": domain},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )
    assert mapped.status_code == 201, mapped.text
    return tenant.id


async def test_github_sign_in_provisions_by_the_verified_primary_e_mail(
    client: httpx.AsyncClient, runtime: Runtime, github: FakeGithub
) -> None:
    await _mapped_tenant(client, runtime, "press.example")
    github.user = {"id": 583231, "login": "octo-choi", "name": None}
    github.emails = [
        {"email": "octo@personal.example", "primary": False, "verified": True},
        {"email": "Choi@Press.example", "primary": True, "verified": True},
    ]

    response = await _sign_in(client)

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    home = await client.get("/")
    assert "octo-choi" in home.text
    assert "choi@press.example" in home.text
    async with transaction(runtime.sessions) as session:
        identity = await session.scalar(select(ExternalIdentity))
    assert identity is not None
    # the numeric id, not the login, which can be renamed
    assert (identity.provider, identity.subject) == ("github", "583231")


async def test_an_unverified_primary_e_mail_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, github: FakeGithub
) -> None:
    await _mapped_tenant(client, runtime, "press.example")
    github.user = {"id": 7, "login": "someone"}
    github.emails = [{"email": "someone@press.example", "primary": True, "verified": False}]

    response = await _sign_in(client)

    assert response.status_code == 401
    assert "no verified primary e-mail" in response.text
    assert COOKIE_NAME not in client.cookies


async def test_a_code_github_rejects_is_refused_clearly(
    client: httpx.AsyncClient, github: FakeGithub
) -> None:
    response = await _sign_in(client, tamper=True)

    assert response.status_code == 401
    assert "refused the sign-in (bad_verification_code)" in response.text


async def test_github_failing_gives_the_unreachable_page(
    client: httpx.AsyncClient, github: FakeGithub
) -> None:
    github.fail_user_api = True

    response = await _sign_in(client)

    assert response.status_code == 502
    assert "The sign-in provider is unreachable" in response.text
