from collections.abc import AsyncIterator

import aiohttp
import anthropic
import openai
import pytest_asyncio

from tokengate.mockprovider import MockConfig, RunningMock, running_mock_provider


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def mock_server() -> AsyncIterator[RunningMock]:
    """One mock provider for the whole package: starting uvicorn costs more than a test."""
    async with running_mock_provider() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="package")
async def mock(mock_server: RunningMock) -> AsyncIterator[RunningMock]:
    """The shared mock with the default config and no recorded requests."""
    mock_server.set_config(MockConfig())
    mock_server.clear_requests()
    yield mock_server
    mock_server.set_config(MockConfig())


@pytest_asyncio.fixture(loop_scope="package")
async def oai(mock: RunningMock) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=mock.base_url, api_key="sk-test", max_retries=0
    ) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="package")
async def claude(mock: RunningMock) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=mock.root_url, api_key="sk-ant-test", max_retries=0
    ) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="package")
async def http(mock: RunningMock) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=mock.root_url) as session:
        yield session
