"""The sign-in providers of ``TOKENGATE_OIDC_PROVIDERS`` and the one way tokengate calls them.

A provider is either a generic OpenID Connect provider found through discovery (Keycloak,
Google, Entra ID, ...) or GitHub, which speaks plain OAuth2 and has a user API instead of an
ID token. Every call to a provider goes through ``call_provider``: the one place where network
failures become ``UpstreamUnavailable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar

import aiohttp
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from tokengate.errors import AuthenticationFailed, ConfigError, UpstreamUnavailable

M = TypeVar("M", bound=BaseModel)
# paths under /login/ that are pages of their own, so no provider may be named after them
RESERVED_NAMES = frozenset({"mfa"})
_TIMEOUT = aiohttp.ClientTimeout(total=10, sock_connect=5)
_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


class _ProviderBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME_PATTERN, description="used in URLs: /login/{name}")
    label: str = Field(default="", max_length=100, description="the button's text")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_NAMES:
            raise ValueError(f"{value!r} is reserved")
        return value

    @property
    def title(self) -> str:
        """What the sign-in button says."""
        return self.label or self.name


class OidcProvider(_ProviderBase):
    """An OpenID Connect provider; its endpoints and keys come from ``{issuer}/.well-known``."""

    kind: Literal["oidc"]
    issuer: str
    client_auth: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"

    _issuer = field_validator("issuer")(_http_url)


class GithubProvider(_ProviderBase):
    """GitHub's OAuth2 (or GitHub Enterprise, or a local fake, through the three URLs)."""

    kind: Literal["github"]
    authorize_url: str = "https://github.com/login/oauth/authorize"
    token_url: str = "https://github.com/login/oauth/access_token"  # noqa: S105 - a URL
    api_url: str = "https://api.github.com"

    _urls = field_validator("authorize_url", "token_url", "api_url")(_http_url)


ProviderConfig = Annotated[OidcProvider | GithubProvider, Field(discriminator="kind")]
_PROVIDER_LIST: TypeAdapter[list[OidcProvider | GithubProvider]] = TypeAdapter(list[ProviderConfig])


def parse_providers(raw: str) -> dict[str, OidcProvider | GithubProvider]:
    """Read ``TOKENGATE_OIDC_PROVIDERS``; raise ConfigError naming what is wrong and where."""
    try:
        providers = _PROVIDER_LIST.validate_json(raw or "[]")
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(error['loc'])}: {error['msg']}" for error in exc.errors(include_url=False)
        )
        raise ConfigError(f"TOKENGATE_OIDC_PROVIDERS is invalid: {problems}") from exc
    by_name: dict[str, OidcProvider | GithubProvider] = {}
    for provider in providers:
        if provider.name in by_name:
            raise ConfigError(
                f"TOKENGATE_OIDC_PROVIDERS is invalid: two providers are named {provider.name!r}"
            )
        by_name[provider.name] = provider
    return by_name


def _where(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "the value (a JSON list of provider objects)"
    index, *rest = loc
    # the discriminator ("oidc" or "github") is part of pydantic's path, not of the JSON
    fields = [str(part) for part in rest if part not in ("oidc", "github")]
    place = f"entry {int(index) + 1}" if isinstance(index, int) else str(index)
    return f"{place} {'.'.join(fields)}".strip()


@dataclass(frozen=True, slots=True)
class ExternalProfile:
    """Who a provider says signed in: its stable subject id and their e-mail."""

    provider: str
    subject: str
    email: str
    name: str


def unreachable() -> UpstreamUnavailable:
    """The error shown when a provider is down, slow or answers nonsense."""
    return UpstreamUnavailable(
        localized={
            "en": "The sign-in provider is unreachable. Try again, or use another method.",
            "ko": "로그인 제공자에 연결할 수 없습니다. 다시 시도하거나 다른 방법을 사용하세요.",
        }
    )


def refused(detail: str) -> AuthenticationFailed:
    """The error shown when a provider refuses the sign-in (a bad or used code, ...)."""
    return AuthenticationFailed(
        localized={
            "en": f"The sign-in provider refused the sign-in ({detail}). Please start again.",
            "ko": f"로그인 제공자가 로그인을 거부했습니다({detail}). 처음부터 다시 시도하세요.",
        }
    )


async def call_provider(
    http: aiohttp.ClientSession,
    method: Literal["GET", "POST"],
    url: str,
    *,
    model: type[M],
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
) -> M:
    """Call a provider and read its JSON answer into ``model``.

    Down, slow, 5xx or nonsense: ``UpstreamUnavailable``; a 4xx: ``AuthenticationFailed``.
    """
    # the shared session does not decompress (the proxy relays bytes as they come)
    sent = {"Accept": "application/json", "Accept-Encoding": "identity", **(headers or {})}
    try:
        async with http.request(method, url, headers=sent, data=data, timeout=_TIMEOUT) as response:
            status = response.status
            body = await response.read()
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise unreachable() from exc
    if status >= 500:
        raise unreachable()
    if status >= 400:
        raise refused(_error_code(body) or f"HTTP {status}")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise unreachable() from exc


class _ErrorBody(BaseModel):
    error: str = Field(max_length=100)


def _error_code(body: bytes) -> str | None:
    try:
        return _ErrorBody.model_validate_json(body).error
    except ValidationError:
        return None
