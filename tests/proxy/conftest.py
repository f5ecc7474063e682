from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.factories import Member, make_member, make_model
from tests.serving import serve_app
from tokengate.mockprovider import RunningMock, running_mock_provider
from tokengate.runtime import Runtime


@pytest.fixture
async def upstream() -> AsyncIterator[RunningMock]:
    async with running_mock_provider() as mock:
        yield mock


@pytest.fixture
async def gateway_url(app: FastAPI) -> AsyncIterator[str]:
    """The gateway on a real loopback port (the app fixture already ran its lifespan)."""
    async with serve_app(app, lifespan="off") as url:
        yield url


@pytest.fixture
async def member(runtime: Runtime, upstream: RunningMock) -> Member:
    await make_model(runtime, base_url=upstream.base_url)
    return await make_member(runtime)
