from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tokengate.app import create_app
from tokengate.migrate import upgrade_database
from tokengate.runtime import Runtime
from tokengate.settings import Settings

MASTER_KEY = "test-master-key-0123456789abcdef0123"
SECRET_KEY = "test-secret-key-0123456789abcdef0123"
POSTGRES_ENV = "TOKENGATE_TEST_POSTGRES_URL"
REDIS_ENV = "TOKENGATE_TEST_REDIS_URL"


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
