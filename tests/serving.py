"""Serving an ASGI app on a loopback port inside the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.types import ASGIApp

from tokengate.mockprovider.server import serving


@asynccontextmanager
async def serve_app(app: ASGIApp, *, lifespan: str = "on", port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 and ``port`` (a free one by default); yield its base URL."""
    async with serving(app, port=port, lifespan=lifespan) as bound:
        yield f"http://127.0.0.1:{bound}"
