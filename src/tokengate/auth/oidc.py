"""OpenID Connect authorization-code flow with PKCE: discovery, the authorization URL, the code
exchange and the ID token's verification against the provider's published keys (JWKS)."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlencode

import aiohttp
import jwt
from pydantic import BaseModel, ConfigDict, ValidationError

from tokengate.auth.providers import (
    ExternalProfile,
    OidcProvider,
    call_provider,
    refused,
    unreachable,
)
from tokengate.errors import AuthenticationFailed

SCOPE = "openid email profile"
WELL_KNOWN = "/.well-known/openid-configuration"
# how long discovery documents and key sets are kept before they are fetched again
CACHE_SECONDS = 300.0
# clock difference tolerated between the provider and this server
LEEWAY_SECONDS = 60
# asymmetric algorithms only: "none" and HS* would let anyone who knows the client secret,
# or nobody at all, mint ID tokens
ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class Discovery(BaseModel):
    """The parts of a provider's discovery document the flow uses."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    id_token_signing_alg_values_supported: list[str] = ["RS256"]


class _KeySet(BaseModel):
    keys: list[dict[str, Any]]


class TokenAnswer(BaseModel):
    """The token endpoint's answer; only the ID token matters here."""

    model_config = ConfigDict(extra="ignore")

    id_token: str | None = None


class IdClaims(BaseModel):
    """The ID token's claims about the person (after the signature and the rest checked out)."""

    model_config = ConfigDict(extra="ignore")

    sub: str
    email: str | None = None
    email_verified: bool | None = None
    name: str | None = None
    preferred_username: str | None = None


@dataclass
class OidcCache:
    """Discovery documents and key sets by URL, kept in memory for ``seconds``."""

    seconds: float = CACHE_SECONDS
    _discovery: dict[str, tuple[float, Discovery]] = field(default_factory=dict, init=False)
    _keys: dict[str, tuple[float, jwt.PyJWKSet]] = field(default_factory=dict, init=False)

    def discovery(self, url: str) -> Discovery | None:
        """The document fetched from ``url`` lately, if any."""
        found = self._discovery.get(url)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def keep_discovery(self, url: str, document: Discovery) -> None:
        self._discovery[url] = (time.monotonic() + self.seconds, document)

    def keys(self, url: str) -> jwt.PyJWKSet | None:
        """The key set fetched from ``url`` lately, if any."""
        found = self._keys.get(url)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def keep_keys(self, url: str, keys: jwt.PyJWKSet) -> None:
        self._keys[url] = (time.monotonic() + self.seconds, keys)


async def discover(
    provider: OidcProvider, *, http: aiohttp.ClientSession, cache: OidcCache
) -> Discovery:
    """The provider's endpoints, fetched from ``{issuer}/.well-known/openid-configuration``."""
    url = provider.issuer + WELL_KNOWN
    cached = cache.discovery(url)
    if cached is not None:
        return cached
    found = await call_provider(http, "GET", url, model=Discovery)
    # a document naming another issuer is not this provider's (OIDC Discovery §4.3)
    if found.issuer.rstrip("/") != provider.issuer:
        raise unreachable()
    cache.keep_discovery(url, found)
    return found


def authorization_url(
    provider: OidcProvider,
    discovery: Discovery,
    *,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_challenge: str,
) -> str:
    """Where the browser is sent to sign in at the provider."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in discovery.authorization_endpoint else "?"
    return f"{discovery.authorization_endpoint}{separator}{query}"


async def fetch_profile(
    provider: OidcProvider,
    *,
    http: aiohttp.ClientSession,
    cache: OidcCache,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    nonce: str,
    now: datetime,
) -> ExternalProfile:
    """Exchange the code, verify the ID token and return who signed in (with a verified
    e-mail)."""
    discovery = await discover(provider, http=http, cache=cache)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
        "client_id": provider.client_id,
    }
    headers = {}
    secret = provider.client_secret.get_secret_value()
    if provider.client_auth == "client_secret_post":
        data["client_secret"] = secret
    else:
        # RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding
        headers["Authorization"] = aiohttp.encode_basic_auth(
            quote_plus(provider.client_id), quote_plus(secret)
        )
    answer = await call_provider(
        http, "POST", discovery.token_endpoint, model=TokenAnswer, data=data, headers=headers
    )
    if not answer.id_token:
        raise refused("no id_token")
    claims = await verify_id_token(
        provider, discovery, http=http, cache=cache, id_token=answer.id_token, nonce=nonce, now=now
    )
    if not claims.email:
        raise refused("no e-mail address")
    if claims.email_verified is False:
        raise refused("the e-mail address is not verified")
    return ExternalProfile(
        provider=provider.name,
        subject=claims.sub,
        email=claims.email.strip().lower(),
        name=claims.name or claims.preferred_username or claims.email.split("@")[0],
    )


async def verify_id_token(
    provider: OidcProvider,
    discovery: Discovery,
    *,
    http: aiohttp.ClientSession,
    cache: OidcCache,
    id_token: str,
    nonce: str,
    now: datetime,
) -> IdClaims:
    """Check the ID token's signature, issuer, audience, expiry and nonce."""
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError as exc:
        raise _invalid("malformed") from exc
    algorithm = header.get("alg")
    if (
        algorithm not in ALGORITHMS
        or algorithm not in discovery.id_token_signing_alg_values_supported
    ):
        raise _invalid(f"algorithm {algorithm}")
    key = await _signing_key(discovery, header.get("kid"), http=http, cache=cache)
    try:
        raw = jwt.decode(
            id_token,
            key,
            algorithms=[algorithm],
            audience=provider.client_id,
            issuer=discovery.issuer,
            options={"require": ["iss", "aud", "exp", "iat", "sub"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise _invalid(type(exc).__name__) from exc
    if raw["exp"] + LEEWAY_SECONDS <= now.timestamp():
        raise _invalid("expired")
    # several audiences: the token must have been issued to this client (OIDC Core §3.1.3.7)
    if (
        isinstance(raw["aud"], list)
        and len(raw["aud"]) > 1
        and raw.get("azp") != provider.client_id
    ):
        raise _invalid("azp")
    if not hmac.compare_digest(str(raw.get("nonce", "")).encode(), nonce.encode()):
        raise _invalid("nonce")
    try:
        return IdClaims.model_validate(raw)
    except ValidationError as exc:
        raise _invalid("claims") from exc


async def _signing_key(
    discovery: Discovery, kid: object, *, http: aiohttp.ClientSession, cache: OidcCache
) -> jwt.PyJWK:
    for refresh in (False, True):
        # an unknown kid may be a key the provider just rotated in: fetch the set once more
        keys = await _key_set(discovery.jwks_uri, http=http, cache=cache, refresh=refresh)
        usable = [k for k in keys.keys if k.public_key_use in (None, "sig")]
        if kid is None and len(usable) == 1:
            return usable[0]
        match = next((k for k in usable if k.key_id == kid), None)
        if match is not None:
            return match
    raise _invalid("unknown signing key")


async def _key_set(
    url: str, *, http: aiohttp.ClientSession, cache: OidcCache, refresh: bool
) -> jwt.PyJWKSet:
    cached = None if refresh else cache.keys(url)
    if cached is not None:
        return cached
    document = await call_provider(http, "GET", url, model=_KeySet)
    try:
        keys = jwt.PyJWKSet.from_dict(document.model_dump())
    except jwt.PyJWTError as exc:
        raise unreachable() from exc
    cache.keep_keys(url, keys)
    return keys


def _invalid(reason: str) -> AuthenticationFailed:
    return AuthenticationFailed(
        localized={
            "en": f"The sign-in provider's answer could not be verified ({reason}). "
            "Please start again.",
            "ko": f"로그인 제공자의 응답을 검증하지 못했습니다({reason}). "
            "처음부터 다시 시도하세요.",
        }
    )
