"""ID token verification: every check refuses the token it exists for. A small issuer on
loopback serves discovery, keys and a token endpoint whose answer each test writes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tokengate.auth import oidc
from tokengate.auth.providers import ExternalProfile, OidcProvider
from tokengate.db import utcnow
from tokengate.errors import AuthenticationFailed, UpstreamUnavailable

CLIENT_ID = "tokengate"
NONCE = "the-nonce"


@dataclass
class Issuer:
    """A provider whose token endpoint answers what the test put in ``answer``."""

    url: str = ""
    keys: list[dict[str, Any]] = field(default_factory=list)
    answer: tuple[int, dict[str, Any]] = (200, {})
    discovery_issuer: str | None = None
    forms: list[dict[str, str]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    key_fetches: int = 0

    async def discovery(self, _: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "issuer": self.discovery_issuer or self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def jwks(self, _: web.Request) -> web.StreamResponse:
        self.key_fetches += 1
        return web.json_response({"keys": self.keys})

    async def token(self, request: web.Request) -> web.StreamResponse:
        self.forms.append({k: str(v) for k, v in (await request.post()).items()})
        self.authorizations.append(request.headers.get("Authorization", ""))
        status, body = self.answer
        return web.json_response(body, status=status)


@dataclass(frozen=True)
class Key:
    kid: str
    private: rsa.RSAPrivateKey

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}


@pytest.fixture(scope="module")
def key() -> Key:
    return Key("key-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def other_key() -> Key:
    return Key("key-2", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
async def issuer(key: Key) -> AsyncIterator[Issuer]:
    fake = Issuer(keys=[key.jwk()])
    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", fake.discovery)
    app.router.add_get("/jwks", fake.jwks)
    app.router.add_post("/token", fake.token)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    fake.url = f"http://{host}:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


def _provider(issuer: Issuer, **overrides: str) -> OidcProvider:
    values = {
        "name": "idp",
        "kind": "oidc",
        "client_id": CLIENT_ID,
        "client_secret": "s3cret+/=",
        "issuer": issuer.url,
        **overrides,
    }
    return OidcProvider.model_validate(values)


def _claims(issuer: Issuer, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": issuer.url,
        "aud": CLIENT_ID,
        "sub": "248289761001",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "email": "Jane@Example.com",
        "email_verified": True,
        "name": "Jane Doe",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict[str, Any], key: Key, *, kid: str | None = None) -> str:
    return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": kid or key.kid})


async def _profile(
    issuer: Issuer,
    http: aiohttp.ClientSession,
    id_token: str | None,
    *,
    cache: oidc.OidcCache | None = None,
    now: datetime | None = None,
    **provider: str,
) -> ExternalProfile:
    issuer.answer = (200, {"access_token": "at", "token_type": "Bearer", "id_token": id_token})
    return await oidc.fetch_profile(
        _provider(issuer, **provider),
        http=http,
        cache=cache or oidc.OidcCache(),
        code="the-code",
        redirect_uri="https://tokengate.test/auth/callback/idp",
        code_verifier="the-verifier",
        nonce=NONCE,
        now=now or utcnow(),
    )


async def test_a_valid_id_token_gives_the_person(
    issuer: Issuer, http: aiohttp.ClientSession, key: Key
) -> None:
    profile = await _profile(issuer, http, _signed(_claims(issuer), key))

    assert profile == ExternalProfile(
        provider="idp", subject="248289761001", email="jane@example.com", name="Jane Doe"
    )
    form = issuer.forms[-1]
    assert form["grant_type"] == "authorization_code"
    assert form["code_verifier"] == "the-verifier"
    assert "client_secret" not in form
    # client_secret_basic, each part form-encoded first (RFC 6749 §2.3.1)
    assert issuer.authorizations[-1] == aiohttp.encode_basic_auth(CLIENT_ID, "s3cret%2B%2F%3D")


async def test_client_secret_post_sends_the_secret_in_the_form(
    issuer: Issuer, http: aiohttp.ClientSession, key: Key
) -> None:
    await _profile(issuer, http, _signed(_claims(issuer), key), client_auth="client_secret_post")

    assert issuer.forms[-1]["client_secret"] == "s3cret+/="
    assert issuer.authorizations[-1] == ""


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "someone-else"}, "InvalidAudienceError"),
        ({"iss": "https://evil.example"}, "InvalidIssuerError"),
        ({"nonce": "replayed"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": [CLIENT_ID, "other"], "azp": "other"}, "azp"),
        ({"sub": None}, "MissingRequiredClaimError"),
    ],
)
async def test_a_token_failing_a_check_is_refused(
    issuer: Issuer,
    http: aiohttp.ClientSession,
    key: Key,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        await _profile(issuer, http, _signed(_claims(issuer, **overrides), key))

    assert reason in refused.value.message("en")


async def test_a_token_signed_with_a_key_not_published_is_refused(
    issuer: Issuer, http: aiohttp.ClientSession, other_key: Key
) -> None:
    with pytest.raises(AuthenticationFailed, match="unknown signing key"):
        await _profile(issuer, http, _signed(_claims(issuer), other_key))


async def test_a_published_kid_with_the_wrong_signature_is_refused(
    issuer: Issuer, http: aiohttp.ClientSession, key: Key, other_key: Key
) -> None:
    with pytest.raises(AuthenticationFailed, match="InvalidSignatureError"):
        await _profile(issuer, http, _signed(_claims(issuer), other_key, kid=key.kid))


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
async def test_unsigned_and_shared_secret_tokens_are_refused(
    issuer: Issuer, http: aiohttp.ClientSession, algorithm: str
) -> None:
    # the client secret is known to the client: a token it could sign proves nothing
    secret = "a-client-secret-long-enough-for-hmac-256" if algorithm == "HS256" else ""
    token = jwt.encode(_claims(issuer), secret, algorithm=algorithm, headers={"kid": "key-1"})

    with pytest.raises(AuthenticationFailed, match=f"algorithm {algorithm}"):
        await _profile(issuer, http, token)


async def test_a_rotated_key_is_fetched_once_more(
    issuer: Issuer, http: aiohttp.ClientSession, key: Key, other_key: Key
) -> None:
    cache = oidc.OidcCache()
    await _profile(issuer, http, _signed(_claims(issuer), key), cache=cache)
    await _profile(issuer, http, _signed(_claims(issuer), key), cache=cache)
    assert issuer.key_fetches == 1
    issuer.keys = [other_key.jwk()]

    profile = await _profile(issuer, http, _signed(_claims(issuer), other_key), cache=cache)

    assert profile.subject == "248289761001"
    assert issuer.key_fetches == 2


async def test_a_token_without_an_e_mail_is_refused(
    issuer: Issuer, http: aiohttp.ClientSession, key: Key
) -> None:
    with pytest.raises(AuthenticationFailed, match="no e-mail address"):
        await _profile(issuer, http, _signed(_claims(issuer, email=None), key))


async def test_an_answer_without_an_id_token_is_refused(
    issuer: Issuer, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(AuthenticationFailed, match="no id_token"):
        await _profile(issuer, http, None)


async def test_a_rejected_code_names_the_providers_error(
    issuer: Issuer, http: aiohttp.ClientSession
) -> None:
    provider = _provider(issuer)
    issuer.answer = (400, {"error": "invalid_grant"})

    with pytest.raises(AuthenticationFailed, match="invalid_grant"):
        await oidc.fetch_profile(
            provider,
            http=http,
            cache=oidc.OidcCache(),
            code="used",
            redirect_uri="https://tokengate.test/cb",
            code_verifier="v",
            nonce=NONCE,
            now=utcnow(),
        )


async def test_a_failing_token_endpoint_is_unreachable(
    issuer: Issuer, http: aiohttp.ClientSession
) -> None:
    issuer.answer = (503, {})

    with pytest.raises(UpstreamUnavailable):
        await oidc.fetch_profile(
            _provider(issuer),
            http=http,
            cache=oidc.OidcCache(),
            code="c",
            redirect_uri="https://tokengate.test/cb",
            code_verifier="v",
            nonce=NONCE,
            now=utcnow(),
        )


async def test_a_discovery_document_of_another_issuer_is_not_trusted(
    issuer: Issuer, http: aiohttp.ClientSession
) -> None:
    issuer.discovery_issuer = "https://accounts.evil.example"

    with pytest.raises(UpstreamUnavailable):
        await oidc.discover(_provider(issuer), http=http, cache=oidc.OidcCache())


async def test_discovery_is_cached(issuer: Issuer, http: aiohttp.ClientSession) -> None:
    cache = oidc.OidcCache()
    first = await oidc.discover(_provider(issuer), http=http, cache=cache)
    issuer.discovery_issuer = "https://changed.example"

    assert await oidc.discover(_provider(issuer), http=http, cache=cache) == first
    with pytest.raises(UpstreamUnavailable):
        await oidc.discover(_provider(issuer), http=http, cache=oidc.OidcCache(seconds=0))
