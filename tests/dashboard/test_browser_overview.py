"""The overview in a real browser: the live stream updates without a reload; narrow screens."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import expect

from tests.dashboard.conftest import Site, open_signed_in, serious_violations


async def test_a_new_request_appears_in_the_live_stream_without_a_reload(
    site: Site, chromium: PlaywrightBrowser
) -> None:
    page = await open_signed_in(chromium, site)
    await expect(page.get_by_test_id("tenants")).to_contain_text("5")
    stream = page.locator("#live-stream")
    before = await stream.locator("li").count()
    async with httpx.AsyncClient(base_url=site.base) as client:
        answer = await client.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {site.user('최수진').key}"},
            json={"model": "C1", "messages": [{"role": "user", "content": "칼럼 초안"}]},
        )
        assert answer.status_code == 200
    await expect(stream.locator("li").first).to_contain_text("최수진", timeout=15_000)
    assert await stream.locator("li").count() == before + 1
    assert not await serious_violations(page)


async def test_the_navigation_collapses_on_a_phone(site: Site, chromium: PlaywrightBrowser) -> None:
    page = await open_signed_in(chromium, site, width=360, height=740)
    nav = page.locator("#nav")
    await expect(nav).to_be_hidden()
    menu = page.get_by_role("button", name="메뉴")
    await menu.click()
    await expect(nav).to_be_visible()
    assert await menu.get_attribute("aria-expanded") == "true"
    # nothing wider than the screen: tables scroll inside their own box
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
