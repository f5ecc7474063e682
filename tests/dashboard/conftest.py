"""The dashboard on the seed's demo data, served on a loopback port, and signed-in clients."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from tests.auth.browser_support import free_port
from tests.serving import serve_app
from tokengate.demo.run import DEMO_ADMIN, build_demo_app, demo_settings, prepare_demo
from tokengate.demo.schemas import DemoSummary, DemoUser
from tokengate.settings import Settings

PASSWORD = "demo-password-for-tests"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    """The demo, served: its address, settings and who is in it."""

    base: str
    settings: Settings
    summary: DemoSummary

    @property
    def master(self) -> dict[str, str]:
        assert self.settings.master_key is not None
        return {"Authorization": f"Bearer {self.settings.master_key.get_secret_value()}"}

    def user(self, name: str) -> DemoUser:
        return next(u for u in self.summary.users if u.name == name)

    def tenant_id(self, name: str) -> int:
        return next(t.id for t in self.summary.tenants if t.name == name)


@dataclass
class Browser:
    """A signed-in client that keeps its cookies, and its session's form token."""

    http: httpx.AsyncClient
    csrf: str

    async def post(
        self, url: str, data: dict[str, str] | None = None, **kw: object
    ) -> httpx.Response:
        return await self.http.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kw)  # type: ignore[arg-type]

    async def htmx(self, method: str, url: str, **kw: object) -> httpx.Response:
        """What htmx sends: its header and the form token header."""
        headers = {"HX-Request": "true", "x-csrf-token": self.csrf}
        return await self.http.request(method, url, headers=headers, **kw)  # type: ignore[arg-type]


def _settings(url: str) -> Settings:
    return demo_settings(host="127.0.0.1", port=None).model_copy(
        update={"database_url": url, "cookie_secure": False, "demo_password": SecretStr(PASSWORD)}
    )


@dataclass(frozen=True)
class Prepared:
    path: Path
    port: int
    summary: DemoSummary


@pytest.fixture(scope="session")
def prepared_demo(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """The demo loaded once per session into a database file each test copies; its models
    point at the mock provider on a port chosen now, which every test's server then uses."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(migrated_template, path)
    port = free_port()
    settings = _settings(f"sqlite+aiosqlite:///{path}")
    summary = asyncio.run(prepare_demo(settings, mock_base_url=f"http://127.0.0.1:{port}/mock/v1"))
    return Prepared(path, port, summary)


@pytest.fixture
async def site(prepared_demo: Prepared, tmp_path: Path) -> AsyncIterator[Site]:
    """The demo served for one test, on its own copy of the data."""
    target = tmp_path / "demo.db"
    shutil.copy(prepared_demo.path, target)
    settings = _settings(f"sqlite+aiosqlite:///{target}")
    async with serve_app(build_demo_app(settings), port=prepared_demo.port) as base:
        yield Site(base=base, settings=settings, summary=prepared_demo.summary)


async def sign_in(site: Site, email: str = DEMO_ADMIN, *, lang: str = "ko") -> Browser:
    """Sign in through the login form, as a person would; return the client and form token."""
    http = httpx.AsyncClient(base_url=site.base, timeout=30, cookies={"tg_lang": lang})
    form = await http.get("/login")
    token = _CSRF.search(form.text)
    assert token is not None, form.text
    answer = await http.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token[1], "next": "/"},
    )
    assert answer.status_code == 303, answer.text
    home = await http.get("/")
    assert home.status_code == 200, home.text
    csrf = _CSRF.search(home.text)
    assert csrf is not None
    return Browser(http=http, csrf=csrf[1])


@pytest.fixture
async def admin(site: Site) -> AsyncIterator[Browser]:
    browser = await sign_in(site)
    yield browser
    await browser.http.aclose()
