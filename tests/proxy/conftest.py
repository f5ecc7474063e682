from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.serving import serve_app


@pytest.fixture
async def gateway_url(app: FastAPI) -> AsyncIterator[str]:
    """The gateway on a real loopback port (the app fixture already ran its lifespan)."""
    async with serve_app(app, lifespan="off") as url:
        yield url
