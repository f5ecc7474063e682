"""What every upstream adapter provides, and the HTTP plumbing they share.

aiohttp's exceptions become ``Upstream*`` errors here and nowhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import orjson

from tokengate.errors import (
    UpstreamStatus,
    UpstreamStreamCut,
    UpstreamTimeout,
    UpstreamUnavailable,
)

ERROR_DETAIL_LIMIT = 500


@dataclass(frozen=True)
class UpstreamRequest:
    """One HTTP request to a provider, ready to send."""

    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Timeouts:
    """Connect, first-byte (and between-chunk) and total limits, in seconds."""

    connect: float
    read: float
    total: float


async def open_upstream(
    http: aiohttp.ClientSession, request: UpstreamRequest, timeouts: Timeouts
) -> aiohttp.ClientResponse:
    """Send the request and return the response once its headers arrived with a 2xx status."""
    timeout = aiohttp.ClientTimeout(
        total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.read
    )
    try:
        response = await http.post(
            request.url, data=request.body, headers=request.headers, timeout=timeout
        )
    except TimeoutError as exc:
        raise UpstreamTimeout() from exc
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(
            f"the model provider is unreachable: {type(exc).__name__}"
        ) from exc
    if response.status >= 400:
        try:
            detail = (await response.read())[:ERROR_DETAIL_LIMIT].decode(errors="replace")
        except (TimeoutError, aiohttp.ClientError):
            detail = ""
        finally:
            response.release()
        raise UpstreamStatus(status=response.status, detail=_error_message(detail))
    return response


async def read_body(response: aiohttp.ClientResponse) -> bytes:
    """Read a whole response body, mapping failures to upstream errors."""
    try:
        return await response.read()
    except TimeoutError as exc:
        raise UpstreamTimeout() from exc
    except aiohttp.ClientError as exc:
        raise UpstreamStreamCut() from exc
    finally:
        response.release()


async def iter_chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """Yield body bytes as they arrive, mapping failures to upstream errors."""
    complete = False
    try:
        async for chunk in response.content.iter_any():
            yield chunk
        complete = True
    except TimeoutError as exc:
        raise UpstreamTimeout() from exc
    except aiohttp.ClientError as exc:
        raise UpstreamStreamCut() from exc
    finally:
        # an unfinished body (client gone, error) must not return its connection to the pool
        if complete:
            response.release()
        else:
            response.close()


def _error_message(detail: str) -> str:
    # providers answer {"error": {"message": ...}}; show that message, else the raw text
    try:
        payload = orjson.loads(detail)
    except orjson.JSONDecodeError:
        return detail.strip() or "no detail"
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return detail.strip() or "no detail"
