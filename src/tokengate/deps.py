"""Per-request dependencies of the admin API, exposed as ``Annotated`` aliases."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.crypto import SecretBox
from tokengate.errors import AuthenticationFailed
from tokengate.pagination import PageRequest
from tokengate.runtime import Runtime, get_runtime


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).sessions() as session, session.begin():
        yield session


def _require_admin(request: Request) -> None:
    expected = get_runtime(request).settings.master_key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if (
        expected is None
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(token.strip().encode(), expected.get_secret_value().encode())
    ):
        raise AuthenticationFailed("a valid admin bearer token is required")


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
AdminDep = Depends(_require_admin)
PageDep = Annotated[PageRequest, Depends(_page)]
BoxDep = Annotated[SecretBox, Depends(_box)]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]
