"""Every dashboard page in Chromium: no serious or critical axe-core violation (WCAG 2.1 AA),
nothing wider than a 360 px phone, and screenshots in Korean and English at 1280 and 390 px."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import Page

from tests.dashboard.conftest import Site, open_signed_in, screenshot, serious_violations

PAGES = {
    "overview": "/",
    "tenants": "/tenants",
    "teams": "/teams",
    "users": "/users",
    "models": "/models",
    "limits": "/limits",
    "monitoring": "/monitoring",
    "my-usage": "/me/usage",
    "my-keys": "/me/keys",
    "security": "/me/security",
    "chat": "/chat",
}
# what a member has (the system administrator has no allowance and no engines to chat with)
MEMBER_PAGES = {
    "member-overview": "/",
    "member-my-usage": "/me/usage",
    "member-chat": "/chat",
}


async def _visit(page: Page, path: str) -> None:
    answer = await page.goto(path)
    assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
    await page.wait_for_load_state("load")
    # charts draw after the page's scripts ran
    await page.wait_for_timeout(300)


@pytest.mark.parametrize("lang", ["ko", "en"])
async def test_every_page_passes_axe_and_is_captured_at_1280_px(
    site: Site, chromium: PlaywrightBrowser, lang: str
) -> None:
    page = await open_signed_in(chromium, site, lang=lang)
    found = {}
    for slug, path in PAGES.items():
        await _visit(page, path)
        await screenshot(page, f"{lang}-1280-{slug}")
        violations = await serious_violations(page)
        if violations:
            found[path] = violations
    member = await open_signed_in(chromium, site, email=site.user("이기자").email, lang=lang)
    for slug, path in MEMBER_PAGES.items():
        await _visit(member, path)
        await screenshot(member, f"{lang}-1280-{slug}")
        violations = await serious_violations(member)
        if violations:
            found[f"{path} (member)"] = violations
    assert not found, found


@pytest.mark.parametrize("lang", ["ko", "en"])
async def test_every_page_fits_a_phone(site: Site, chromium: PlaywrightBrowser, lang: str) -> None:
    page = await open_signed_in(chromium, site, lang=lang, width=390, height=844)
    too_wide = {}
    for slug, path in PAGES.items():
        await _visit(page, path)
        await screenshot(page, f"{lang}-390-{slug}")
        await page.set_viewport_size({"width": 360, "height": 740})
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            too_wide[path] = overflow
        await page.set_viewport_size({"width": 390, "height": 844})
    assert not too_wide, f"wider than 360 px (by px): {too_wide}"
