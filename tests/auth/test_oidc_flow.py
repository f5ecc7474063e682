"""Sign-in through a real OpenID provider (oidc-provider-mock, in its own process on loopback):
authorization code with PKCE, ID token verification, provisioning, and every way it can fail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.auth.browser_support import (
    browser,
    cookie_header,
    free_port,
    oidc_provider_process,
    signin_settings,
)
from tests.auth.factories import make_account, make_tenant_with_plan, set_user
from tests.conftest import MASTER_KEY
from tests.factories import make_team
from tokengate.auth.invitations import create_invitation
from tokengate.auth.models import ExternalIdentity, Invitation, LoginFlow
from tokengate.auth.schemas import InvitationCreate
from tokengate.auth.sessions import COOKIE_NAME
from tokengate.db import transaction, utcnow
from tokengate.runtime import Runtime
from tokengate.settings import Settings
from tokengate.tenancy.models import TeamMembership, User

CLIENT_ID = "tokengate-test"
ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with oidc_provider_process() as url:
        yield url


@pytest.fixture
def settings(database_url: str, issuer: str) -> Settings:
    providers = [
        {
            "name": "mock",
            "kind": "oidc",
            "label": "Company SSO",
            "client_id": CLIENT_ID,
            "client_secret": "client-secret-for-tests",
            "issuer": issuer,
        },
        {
            "name": "down",
            "kind": "oidc",
            "client_id": CLIENT_ID,
            "client_secret": "client-secret-for-tests",
            "issuer": f"http://127.0.0.1:{free_port()}",
            "client_auth": "client_secret_post",
        },
    ]
    return signin_settings(database_url, providers=providers)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as http:
        yield http


async def _at_provider(
    client: httpx.AsyncClient, issuer: str, *, claims: dict[str, object], next_path: str = "/"
) -> tuple[str, str]:
    """Start at tokengate, sign in at the provider as a new subject with these claims; return
    the callback URL the provider sends the browser back to, and the subject."""
    subject = f"sub-{uuid.uuid4().hex[:12]}"
    start = await client.get("/login/mock", params={"next": next_path})
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{issuer}/oauth2/authorize?")
    assert query["scope"] == ["openid email profile"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["https://tokengate.test/auth/callback/mock"]
    async with httpx.AsyncClient() as outside:
        stored = await outside.put(f"{issuer}/users/{subject}", json=claims)
        assert stored.status_code == 204, stored.text
        answer = await outside.post(authorize, data={"sub": subject})
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    return f"{back.path}?{back.query}", subject


async def _sign_in(
    client: httpx.AsyncClient, issuer: str, email: str, **claims: object
) -> httpx.Response:
    callback, _ = await _at_provider(
        client, issuer, claims={"email": email, "email_verified": True, **claims}
    )
    return await client.get(callback)


async def _map_domain(
    client: httpx.AsyncClient, tenant_id: int, domain: str, **body: object
) -> None:
    response = await client.post(
        f"/api/v1/tenants/{tenant_id}/domains", json={"domain": domain, **body}, headers=ADMIN
    )
    assert response.status_code == 201, response.text


async def _user(runtime: Runtime, email: str) -> User | None:
    async with transaction(runtime.sessions) as session:
        return await session.scalar(select(User).where(User.email == email))


async def test_a_newcomer_of_a_mapped_domain_is_provisioned_and_signed_in(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    tenant = await make_tenant_with_plan(runtime)
    await _map_domain(client, tenant.id, "newsroom.example", roles=["team_leader"])

    callback, subject = await _at_provider(
        client,
        issuer,
        claims={"email": "Kim@Newsroom.example", "email_verified": True, "name": "Kim Jiwoo"},
        next_path="/usage",
    )
    response = await client.get(callback)

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/usage"
    assert "httponly" in cookie_header(response, COOKIE_NAME).lower()
    home = await client.get("/")
    assert home.status_code == 200
    assert "Kim Jiwoo" in home.text
    assert tenant.name in home.text
    user = await _user(runtime, "kim@newsroom.example")
    assert user is not None
    assert (user.tenant_id, sorted(user.roles)) == (tenant.id, ["member", "team_leader"])
    async with transaction(runtime.sessions) as session:
        identity = await session.scalar(
            select(ExternalIdentity).where(ExternalIdentity.user_id == user.id)
        )
    assert identity is not None
    assert (identity.provider, identity.subject) == ("mock", subject)


async def test_the_second_sign_in_finds_the_same_person(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    tenant = await make_tenant_with_plan(runtime)
    await _map_domain(client, tenant.id, "again.example")
    callback, subject = await _at_provider(
        client, issuer, claims={"email": "lee@again.example", "email_verified": True}
    )
    assert (await client.get(callback)).status_code == 303
    client.cookies.clear()

    start = await client.get("/login/mock")
    async with httpx.AsyncClient() as outside:
        answer = await outside.post(start.headers["location"], data={"sub": subject})
    back = urlsplit(answer.headers["location"])
    second = await client.get(f"{back.path}?{back.query}")

    assert second.status_code == 303
    async with transaction(runtime.sessions) as session:
        users = list(await session.scalars(select(User).where(User.tenant_id == tenant.id)))
    assert [u.email for u in users] == ["lee@again.example"]


async def test_an_invitation_brings_its_tenant_roles_and_team(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    tenant = await make_tenant_with_plan(runtime)
    team = await make_team(runtime, tenant_id=tenant.id)
    async with transaction(runtime.sessions) as session:
        invited = await create_invitation(
            session,
            data=InvitationCreate(
                tenant_id=tenant.id,
                email="park@elsewhere.example",
                name="Park Minseo",
                roles=["member", "team_leader"],
                team_id=team.id,
            ),
            created_by=None,
            settings=runtime.settings,
            now=utcnow(),
        )

    response = await _sign_in(client, issuer, "park@elsewhere.example")

    assert response.status_code == 303, response.text
    user = await _user(runtime, "park@elsewhere.example")
    assert user is not None
    assert (user.tenant_id, user.name) == (tenant.id, "Park Minseo")
    assert sorted(user.roles) == ["member", "team_leader"]
    async with transaction(runtime.sessions) as session:
        membership = await session.get(TeamMembership, (team.id, user.id))
        invitation = await session.get(Invitation, invited.id)
    assert membership is not None
    assert membership.role == "leader"
    assert invitation is not None
    assert invitation.accepted_at is not None


async def test_an_existing_user_is_linked_by_e_mail(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    account = await make_account(runtime)

    response = await _sign_in(client, issuer, account.email.upper())

    assert response.status_code == 303
    assert account.user.name in (await client.get("/")).text


async def test_an_archived_user_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    account = await make_account(runtime)
    await set_user(runtime, account.user.id, status="archived")

    response = await _sign_in(client, issuer, account.email)

    assert response.status_code == 403
    assert "archived" in response.text
    assert COOKIE_NAME not in client.cookies


async def test_an_unknown_domain_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    response = await _sign_in(client, issuer, "stranger@nowhere.example")

    assert response.status_code == 403
    assert "not registered with any organisation" in response.text
    assert await _user(runtime, "stranger@nowhere.example") is None
    assert COOKIE_NAME not in client.cookies


async def test_a_full_plan_refuses_newcomers_clearly(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    tenant = await make_tenant_with_plan(runtime, max_users=1)
    await make_account(runtime, tenant=tenant)
    await _map_domain(client, tenant.id, "full.example")

    response = await _sign_in(client, issuer, "late@full.example")

    assert response.status_code == 403
    assert "no room for more users" in response.text


async def test_an_unverified_e_mail_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    tenant = await make_tenant_with_plan(runtime)
    await _map_domain(client, tenant.id, "unverified.example")

    response = await _sign_in(client, issuer, "who@unverified.example", email_verified=False)

    assert response.status_code == 401
    assert "not verified" in response.text
    assert await _user(runtime, "who@unverified.example") is None


async def test_an_unknown_state_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/callback/mock?code=abc&state=made-up")

    assert response.status_code == 400
    assert "unknown, has expired or was already used" in response.text
    assert COOKIE_NAME not in client.cookies


async def test_a_state_works_only_once(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    tenant = await make_tenant_with_plan(runtime)
    await _map_domain(client, tenant.id, "replay.example")
    callback, _ = await _at_provider(
        client, issuer, claims={"email": "once@replay.example", "email_verified": True}
    )
    assert (await client.get(callback)).status_code == 303
    client.cookies.clear()

    replayed = await client.get(callback)

    assert replayed.status_code == 400
    assert COOKIE_NAME not in client.cookies
    async with transaction(runtime.sessions) as session:
        assert await session.scalar(select(LoginFlow)) is None


async def test_a_state_of_another_provider_is_refused(
    client: httpx.AsyncClient, issuer: str
) -> None:
    callback, _ = await _at_provider(
        client, issuer, claims={"email": "x@nowhere.example", "email_verified": True}
    )

    response = await client.get(callback.replace("/auth/callback/mock", "/auth/callback/down"))

    assert response.status_code == 400


async def test_the_providers_refusal_is_shown(
    client: httpx.AsyncClient, runtime: Runtime, issuer: str
) -> None:
    start = await client.get("/login/mock")
    async with httpx.AsyncClient() as outside:
        denied = await outside.post(start.headers["location"], data={"action": "deny"})
    back = urlsplit(denied.headers["location"])
    assert "error=access_denied" in back.query
    # RFC 6749 §4.1.2.1 has the state sent back with the error; this mock leaves it out
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]

    response = await client.get(back.path, params={**parse_qs(back.query), "state": state})

    assert response.status_code == 400
    assert "Sign-in at mock was cancelled or refused (access_denied)" in response.text
    async with transaction(runtime.sessions) as session:
        assert await session.scalar(select(LoginFlow)) is None


async def test_a_provider_that_is_down_gives_a_clear_page_not_a_crash(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/login/down")

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "The sign-in provider is unreachable. Try again, or use another method." in response.text
    assert "Sign in with Company SSO" in response.text


async def test_an_unknown_provider_is_a_clear_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/login/nosuch")

    assert response.status_code == 404
    assert "There is no sign-in provider named" in response.text
