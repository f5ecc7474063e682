"""The dashboard on the seed's demo data, served on a loopback port, and signed-in clients."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import Page, async_playwright, expect
from pydantic import SecretStr
from sqlalchemy import select

from tests.auth.browser_support import free_port
from tests.serving import serve_app
from tokengate.auth.sessions import COOKIE_NAME, open_session
from tokengate.db import create_engine, create_session_factory, transaction, utcnow
from tokengate.demo.run import DEMO_ADMIN, build_demo_app, demo_settings, prepare_demo
from tokengate.demo.schemas import DemoSummary, DemoUser
from tokengate.settings import Settings
from tokengate.tenancy.models import User

PASSWORD = "demo-password-for-tests"


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
    """A browser already signed in as ``email``: its session is opened in the database, as the
    login form would (the form itself is tested in tests/auth and by the browser tests); this
    spares every test the password hashing."""
    engine = create_engine(site.settings.database_url)
    try:
        async with transaction(create_session_factory(engine)) as session:
            user_id = await session.scalar(select(User.id).where(User.email == email))
            assert user_id is not None, email
            token, row = await open_session(
                session,
                user_id=user_id,
                stage="active",
                method="password",
                ip=None,
                user_agent=None,
                settings=site.settings,
                now=utcnow(),
            )
            csrf = row.csrf_token
    finally:
        await engine.dispose()
    http = httpx.AsyncClient(
        base_url=site.base, timeout=30, cookies={"tg_lang": lang, COOKIE_NAME: token}
    )
    return Browser(http=http, csrf=csrf)


@pytest.fixture
async def admin(site: Site) -> AsyncIterator[Browser]:
    browser = await sign_in(site)
    yield browser
    await browser.http.aclose()


# Debian's Chromium driven by Playwright (which cannot download its own browser here)
CHROMIUM = Path(os.environ.get("TOKENGATE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# a loaded CI machine answers slower than a desk: browser expectations wait up to 20 s
expect.set_options(timeout=20_000)
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (chromium, fonts-nanum)")
    return CHROMIUM


@pytest.fixture
async def chromium(chromium_path: Path) -> AsyncIterator[PlaywrightBrowser]:
    """A headless Chromium (`make browser` installs it with the Korean font)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_signed_in(
    chromium: PlaywrightBrowser,
    site: Site,
    *,
    email: str = DEMO_ADMIN,
    lang: str = "ko",
    width: int = 1280,
    height: int = 900,
) -> Page:
    """A browser tab in the given language and width, signed in through the login page."""
    context = await chromium.new_context(
        base_url=site.base,
        locale="ko-KR" if lang == "ko" else "en-US",
        viewport={"width": width, "height": height},
    )
    page = await context.new_page()
    await page.goto("/")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.locator("form[action='/login'] button[type=submit]").click()
    await page.wait_for_url(f"{site.base}/")
    return page


async def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as artifacts/screenshots/<name>.png (CI keeps artifacts/)."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), full_page=True)
    return path


async def serious_violations(page: Page) -> list[dict[str, object]]:
    """What axe-core finds on the page at the serious or critical level."""
    await page.add_script_tag(path=str(AXE))
    found: list[dict[str, object]] = await page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }"""
    )
    return found
