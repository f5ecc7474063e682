"""Per-request dependencies of the admin API, exposed as ``Annotated`` aliases."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.access import require_system
from tokengate.auth.principal import Principal
from tokengate.auth.service import principal_for_user
from tokengate.auth.sessions import COOKIE_NAME, CSRF_HEADER, load_session
from tokengate.auth.tokens import looks_like_jwt, read_access_token
from tokengate.crypto import SecretBox
from tokengate.db import utcnow
from tokengate.errors import AuthenticationFailed, PermissionDenied
from tokengate.ids import MAX_ID
from tokengate.pagination import PageRequest
from tokengate.runtime import Runtime, get_runtime


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).sessions() as session, session.begin():
        yield session


def client_ip(request: Request) -> str | None:
    """The caller's address as the server saw it (no proxy headers are trusted)."""
    return request.client.host if request.client else None


def _is_master_key(request: Request, token: str) -> bool:
    expected = get_runtime(request).settings.master_key
    return expected is not None and hmac.compare_digest(
        token.encode(), expected.get_secret_value().encode()
    )


async def _actor(request: Request, session: SessionDep) -> Principal:
    """Who calls: the master key, a JWT access token, or a browser session cookie."""
    runtime = get_runtime(request)
    ip = client_ip(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    now = utcnow()
    if scheme.lower() == "bearer" and token:
        if _is_master_key(request, token):
            return Principal.master(ip)
        if not looks_like_jwt(token):
            raise AuthenticationFailed(
                "a valid bearer token is required: the master key or an access token from "
                "POST /api/v1/auth/token (virtual keys tg-… are for /v1)"
            )
        claims = read_access_token(runtime.settings, token, now=now)
        actor = await principal_for_user(
            session, claims.user_id, auth_version=claims.auth_version, ip=ip
        )
        if actor is None:
            raise AuthenticationFailed("the access token is no longer valid: sign in again")
        return actor
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        row = await load_session(session, cookie, settings=runtime.settings, now=now)
        if row is None or row.stage != "active":
            raise AuthenticationFailed("the session has ended: sign in again")
        if request.method not in _SAFE_METHODS and not hmac.compare_digest(
            request.headers.get(CSRF_HEADER, "").encode(), row.csrf_token.encode()
        ):
            raise PermissionDenied(f"the {CSRF_HEADER} header is missing or wrong")
        actor = await principal_for_user(session, row.user_id, auth_version=None, ip=ip)
        if actor is None:
            raise AuthenticationFailed("the session has ended: sign in again")
        return actor
    raise AuthenticationFailed(
        "authentication is required: a bearer token (the master key or an access token) "
        "or a signed-in session"
    )


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _page(
    cursor: Annotated[str | None, Query(description="the `next` of the previous page")] = None,
    limit: Annotated[int, Query(description="page size, 1 to 500")] = 50,
) -> PageRequest:
    return PageRequest.parse(cursor, limit)


def _box(request: Request) -> SecretBox:
    return get_runtime(request).box


def _runtime(request: Request) -> Runtime:
    return get_runtime(request)


# "function" scope: the transaction commits before the response is sent, so a client's next
# call always sees what the previous one created
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
ActorDep = Annotated[Principal, Depends(_actor)]


def _system_actor(actor: ActorDep) -> Principal:
    require_system(actor, "this resource")
    return actor


# routers whose every route is for system administrators only
SystemDep = Depends(_system_actor)
PageDep = Annotated[PageRequest, Depends(_page)]
BoxDep = Annotated[SecretBox, Depends(_box)]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]

# an id in the path or the query, within what an id column holds
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
