"""Who is calling, and may they use this model: the checks before any relay."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from tokengate.catalog import service as catalog
from tokengate.catalog.schemas import Route
from tokengate.crypto import hash_virtual_key
from tokengate.db import utcnow
from tokengate.errors import KeyInvalid, Locale, ModelNotAllowed, ModelNotFound, UserBlocked
from tokengate.i18n import pick_locale
from tokengate.keys import service as keys
from tokengate.keys.schemas import KeyIdentity, KeyRecord
from tokengate.runtime import Runtime
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.schemas import MemberProfile


@dataclass(frozen=True)
class Caller:
    """An authenticated key with its owner's profile and language."""

    identity: KeyIdentity
    profile: MemberProfile
    locale: Locale


def presented_key(request: Request) -> str | None:
    """Return the virtual key from ``Authorization: Bearer`` or Anthropic's ``x-api-key``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


async def authenticate(runtime: Runtime, request: Request) -> Caller:
    """Resolve the presented key to its owner; raise when the key is missing or invalid."""
    raw = presented_key(request)
    if raw is None:
        raise KeyInvalid("Missing API key: send it as 'Authorization: Bearer <key>'.")
    cache = runtime.cache

    async def load_key() -> KeyRecord | None:
        async with runtime.sessions() as session:
            return await keys.find_key(session=session, raw_key=raw)

    identity = keys.check_key(await cache.keys.get(hash_virtual_key(raw), load_key), now=utcnow())
    profile = await profile_of(runtime, identity.user_id)
    locale = pick_locale(
        accept_language=request.headers.get("accept-language"),
        account_locale=profile.locale,
        fallback=profile.tenant_locale,
    )
    return Caller(identity=identity, profile=profile, locale=locale)


async def profile_of(runtime: Runtime, user_id: int) -> MemberProfile:
    """The key owner's profile (cached); a gone or archived owner makes the key invalid."""

    async def load_profile() -> MemberProfile | None:
        async with runtime.sessions() as session:
            return await tenancy.get_member_profile(session=session, user_id=user_id)

    profile = await runtime.cache.profiles.get(user_id, load_profile)
    if profile is None:
        raise KeyInvalid()
    return profile


def ensure_active(caller: Caller) -> None:
    """Refuse a blocked user or a blocked key."""
    if caller.profile.status == "blocked" or caller.identity.blocked:
        raise UserBlocked()


async def resolve_model(runtime: Runtime, caller: Caller, name: str) -> Route:
    """Return the route of a model the caller's plan allows."""

    async def load_route() -> Route | None:
        async with runtime.sessions() as session:
            return await catalog.get_route(session=session, box=runtime.box, name=name)

    route = await runtime.cache.routes.get(name, load_route)
    if route is None:
        raise ModelNotFound(model=name, param="model")
    if name not in caller.profile.allowed_models:
        raise ModelNotAllowed(plan=caller.profile.plan, model=name, param="model")
    return route


async def allowed_models(runtime: Runtime, caller: Caller) -> list[str]:
    """Return the active models the caller's plan allows."""
    async with runtime.sessions() as session:
        active = await catalog.list_active_model_names(session=session)
    allowed = set(caller.profile.allowed_models)
    return [name for name in active if name in allowed]
