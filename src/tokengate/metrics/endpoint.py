"""``GET /metrics`` for Prometheus to scrape."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tokengate.errors import AuthenticationFailed
from tokengate.metrics.gateway import GatewayMetrics


def metrics_endpoint(
    metrics: GatewayMetrics, *, token: str | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """Build the handler serving ``metrics``; with a token, scrapes must send it as a bearer."""

    async def serve_metrics(request: Request) -> Response:
        if token is not None and not _bearer_matches(request, token):
            raise AuthenticationFailed()
        # rendering walks every series (and reads files in multiprocess mode): keep it off the loop
        body, content_type = await run_in_threadpool(metrics.render, request.headers.get("accept"))
        return Response(body, media_type=content_type)

    return serve_metrics


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip(), token)
