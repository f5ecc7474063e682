"""Browser sign-in: external logins (OIDC, GitHub) from redirect to user, and the session that
follows a successful first factor (active, or waiting for the second factor)."""

from __future__ import annotations

import hashlib
import secrets
from base64 import urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
import structlog
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth import github, oidc
from tokengate.auth.mfa import mfa_requirement
from tokengate.auth.models import AuthSession, LoginFlow
from tokengate.auth.providers import GithubProvider, OidcProvider, parse_providers
from tokengate.auth.provisioning import provision
from tokengate.auth.sessions import end_session, load_session, open_session, token_hash
from tokengate.errors import InvalidRequest, NotFound
from tokengate.settings import Settings
from tokengate.tenancy.models import User

# how long the person has to come back from the provider
FLOW_LIFETIME = timedelta(minutes=10)
_STAGE_OF_REQUIREMENT = {"none": "active", "verify": "mfa", "enrol": "enrol"}
log = structlog.get_logger()


@dataclass(frozen=True)
class SignIn:
    """The configured providers and the discovery documents and keys fetched from them; one per
    process, built at start-up (a bad ``TOKENGATE_OIDC_PROVIDERS`` stops the start)."""

    providers: Mapping[str, OidcProvider | GithubProvider]
    cache: oidc.OidcCache

    @classmethod
    def from_settings(cls, settings: Settings) -> SignIn:
        """Read the providers of the settings; ConfigError when they are malformed."""
        return cls(providers=parse_providers(settings.oidc_providers), cache=oidc.OidcCache())

    def provider(self, name: str) -> OidcProvider | GithubProvider:
        """The provider of this name, or NotFound."""
        found = self.providers.get(name)
        if found is None:
            raise NotFound(
                localized={
                    "en": f"There is no sign-in provider named {name!r}.",
                    "ko": f"{name!r}(이)라는 로그인 제공자가 없습니다.",
                }
            )
        return found


async def start_external(
    session: AsyncSession,
    *,
    sign_in: SignIn,
    http: aiohttp.ClientSession,
    provider_name: str,
    redirect_uri: str,
    next_path: str,
    now: datetime,
) -> str:
    """Remember a new authorization (state, PKCE verifier, nonce) and return the provider's
    URL to send the browser to."""
    provider = sign_in.provider(provider_name)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    nonce = secrets.token_urlsafe(24)
    challenge = urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    if isinstance(provider, OidcProvider):
        discovery = await oidc.discover(provider, http=http, cache=sign_in.cache)
        url = oidc.authorization_url(
            provider,
            discovery,
            redirect_uri=redirect_uri,
            state=state,
            nonce=nonce,
            code_challenge=challenge.decode(),
        )
    else:
        url = github.authorization_url(
            provider, redirect_uri=redirect_uri, state=state, code_challenge=challenge.decode()
        )
    await session.execute(delete(LoginFlow).where(LoginFlow.expires_at < now))
    session.add(
        LoginFlow(
            state_hash=token_hash(state),
            provider=provider.name,
            code_verifier=verifier,
            nonce=nonce,
            redirect_to=next_path,
            created_at=now,
            expires_at=now + FLOW_LIFETIME,
        )
    )
    await session.flush()
    return url


async def take_flow(
    session: AsyncSession, *, provider_name: str, state: str, now: datetime
) -> LoginFlow | None:
    """The authorization a ``state`` belongs to, deleted: each state is good for one callback."""
    flow = await session.get(LoginFlow, token_hash(state))
    if flow is None:
        return None
    await session.delete(flow)
    await session.flush()
    if flow.provider != provider_name or flow.expires_at <= now:
        return None
    return flow


async def finish_external(
    session: AsyncSession,
    *,
    sign_in: SignIn,
    http: aiohttp.ClientSession,
    provider_name: str,
    redirect_uri: str,
    code: str,
    state: str,
    now: datetime,
) -> tuple[User, str]:
    """Complete a provider's callback: the signed-in user (provisioned on their first sign-in)
    and where they were going."""
    flow = await take_flow(session, provider_name=provider_name, state=state, now=now)
    if flow is None:
        raise InvalidRequest(
            localized={
                "en": "This sign-in attempt is unknown, has expired or was already used. "
                "Please start again.",
                "ko": "알 수 없거나 만료되었거나 이미 사용된 로그인 요청입니다. "
                "처음부터 다시 시도하세요.",
            }
        )
    provider = sign_in.provider(provider_name)
    if isinstance(provider, OidcProvider):
        profile = await oidc.fetch_profile(
            provider,
            http=http,
            cache=sign_in.cache,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
            now=now,
        )
    else:
        profile = await github.fetch_profile(
            provider,
            http=http,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=flow.code_verifier,
        )
    log.info(
        "sign-in identified",
        method=provider.name,
        email_domain=profile.email.rpartition("@")[2],
    )
    return await provision(session, profile=profile, now=now), flow.redirect_to


async def begin_session(
    session: AsyncSession,
    *,
    user: User,
    method: str,
    ip: str | None,
    user_agent: str | None,
    settings: Settings,
    now: datetime,
    previous_token: str | None,
) -> tuple[str, str]:
    """Open the session of a first factor that succeeded: active, or at the MFA stage the
    user's account requires. Returns the cookie's token and the stage."""
    stage = _STAGE_OF_REQUIREMENT[await mfa_requirement(session, user)]
    if previous_token:
        await end_session(session, previous_token, now=now)
    token, _ = await open_session(
        session,
        user_id=user.id,
        stage=stage,
        method=method,
        ip=ip,
        user_agent=user_agent,
        settings=settings,
        now=now,
    )
    return token, stage


async def current_session(
    session: AsyncSession, *, token: str | None, settings: Settings, now: datetime
) -> AuthSession | None:
    """The live session of a cookie, if any."""
    if not token:
        return None
    return await load_session(session, token, settings=settings, now=now)


async def activate(
    session: AsyncSession, *, row: AuthSession, token: str, settings: Settings, now: datetime
) -> str:
    """The second factor is done: the session goes on, active, under a new token (so a token
    seen before sign-in completed is worth nothing after it). Returns the new token."""
    await end_session(session, token, now=now)
    new_token, _ = await open_session(
        session,
        user_id=row.user_id,
        stage="active",
        method=row.method,
        ip=row.ip,
        user_agent=row.user_agent,
        settings=settings,
        now=now,
    )
    return new_token


async def get_user(session: AsyncSession, *, user_id: int) -> User:
    """The user of a session."""
    return await session.get_one(User, user_id)
