from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import Member, make_member, make_model
from tokengate.app import create_app
from tokengate.db import create_engine, create_session_factory
from tokengate.migrate import upgrade_database
from tokengate.mockprovider import RunningMock, running_mock_provider
from tokengate.runtime import Runtime
from tokengate.settings import Settings

MASTER_KEY = "test-master-key-0123456789abcdef0123"
SECRET_KEY = "test-secret-key-0123456789abcdef0123"
POSTGRES_ENV = "TOKENGATE_TEST_POSTGRES_URL"
REDIS_ENV = "TOKENGATE_TEST_REDIS_URL"
T = TypeVar("T")


def pytest_report_header() -> list[str]:
    lines = []
    for name in (POSTGRES_ENV, REDIS_ENV):
        if not os.environ.get(name):
            lines.append(f"{name} is not set: tests that need it are skipped")
    return lines


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def database_url(migrated_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "tokengate.db"
    shutil.copy(migrated_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        master_key=MASTER_KEY,
        secret_keys=SECRET_KEY,
        upstream_read_timeout=5.0,
        upstream_total_timeout=10.0,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tokengate.test") as http:
        yield http


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {MASTER_KEY}"}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    yield url


@pytest.fixture(scope="session")
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head, dropped after."""
    import uuid

    import asyncpg

    name = f"tokengate_test_{uuid.uuid4().hex[:10]}"
    server = postgres_url.replace("postgresql+asyncpg://", "postgresql://")

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(server)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    run_sync(lambda: asyncio.run(admin(f'CREATE DATABASE "{name}"')))
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    run_sync(lambda: upgrade_database(url))
    yield url
    run_sync(lambda: asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)')))


async def _truncate_all(url: str) -> None:
    from sqlalchemy import text

    from tokengate.models_index import metadata

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_database_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """The test's database on each backend: a SQLite copy, or the session's emptied PostgreSQL."""
    if request.param == "sqlite":
        return database_url
    url: str = request.getfixturevalue("postgres_database")
    run_sync(lambda: asyncio.run(_truncate_all(url)))
    return url


def run_sync(work: Callable[[], T]) -> T:
    """Run blocking set-up work (which may start its own event loop) in a worker thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


@pytest.fixture
async def sessions(any_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on each backend, for store and service tests."""
    engine = create_engine(any_database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def upstream() -> AsyncIterator[RunningMock]:
    """The project's mock LLM provider on a loopback port."""
    async with running_mock_provider() as mock:
        yield mock


@pytest.fixture
async def member(runtime: Runtime, upstream: RunningMock) -> Member:
    """A user with a key on a plan allowing C1, which the mock provider serves."""
    await make_model(runtime, base_url=upstream.base_url)
    return await make_member(runtime)
