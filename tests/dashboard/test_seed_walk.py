"""The seed's demo (000), steps 1 to 6, walked in Korean in Debian's Chromium on the demo data.

1 opens the dashboard; 2 전체 현황: 5 tenants, 15 users, 3 near the limit; 3 테넌트 관리: plans
and engines; 4 사용자 관리 filtered to 서울경제신문: 이기자 45 %, 박기자 80 %, 정인턴 95 %;
5 blocking 정인턴 through the modal → 차단됨, and their next chat through the OpenAI SDK is
refused with 더 이상 채팅을 사용할 수 없습니다; 6 사용량 모니터링: 정인턴 and 데모관리자 at 95 %,
plan averages, the top 5. Screenshots of every step go to artifacts/screenshots/.
"""

from __future__ import annotations

import openai
import pytest
from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import Page, expect

from tests.dashboard.conftest import Site, open_signed_in, screenshot

BLOCK_MESSAGE = "더 이상 채팅을 사용할 수 없습니다"


async def _tab(page: Page, name: str) -> None:
    link = page.locator("#nav").get_by_role("link", name=name, exact=True)
    target = await link.get_attribute("href")
    await link.click()
    await page.wait_for_url(f"**{target}")
    await expect(link).to_have_attribute("aria-current", "page")


async def test_the_seed_demo_steps_1_to_6_in_korean(
    site: Site, chromium: PlaywrightBrowser
) -> None:
    # Step 1: the dashboard opens (after signing in)
    page = await open_signed_in(chromium, site)
    await expect(page.locator("html")).to_have_attribute("lang", "ko")

    # Step 2: 전체 현황
    await _tab(page, "전체 현황")
    await expect(page.get_by_test_id("tenants").locator(".value")).to_have_text("5")
    await expect(page.get_by_test_id("users").locator(".value")).to_have_text("15")
    await expect(page.get_by_test_id("near-limit").locator(".value")).to_have_text("3")
    await screenshot(page, "seed-step2-overview")

    # Step 3: 테넌트 관리 — each newspaper's plan and engines
    await _tab(page, "테넌트 관리")
    sedaily = page.locator("[data-testid=tenant-row][data-tenant=서울경제신문]")
    await expect(sedaily.get_by_test_id("plan")).to_contain_text("Enterprise")
    await expect(sedaily.get_by_test_id("engines")).to_contain_text("C1, C2, C7")
    demo = page.locator("[data-testid=tenant-row][data-tenant=데모신문사]")
    await expect(demo.get_by_test_id("plan")).to_contain_text("Free")
    await expect(demo.get_by_test_id("engines")).to_have_text("C1")
    await screenshot(page, "seed-step3-tenants")

    # Step 4: 사용자 관리, filtered to 서울경제신문
    await _tab(page, "사용자 관리")
    await page.get_by_label("테넌트").select_option(label="서울경제신문")
    await expect(page.locator("tr[data-user]")).to_have_count(5)
    for name, percent, band in (
        ("이기자", "45%", "safe"),
        ("박기자", "80%", "warning"),
        ("정인턴", "95%", "danger"),
    ):
        row = page.locator(f"tr[data-user={name}]")
        await expect(row.locator(".pct")).to_have_text(percent)
        await expect(row.locator(".pct")).to_have_class(f"pct {band}")
    await expect(page.locator("tr[data-user=데모관리자]")).to_have_count(0)
    await screenshot(page, "seed-step4-users")

    # Step 5: block 정인턴 (95 %) through the confirmation modal
    intern = page.locator("tr[data-user=정인턴]")
    await intern.get_by_role("button", name="차단", exact=True).click()
    dialog = page.locator("dialog[open]")
    await expect(dialog).to_be_visible()
    # the focus is kept inside the modal
    assert await page.evaluate(
        "document.querySelector('dialog[open]').contains(document.activeElement)"
    )
    await screenshot(page, "seed-step5-modal")
    await dialog.get_by_role("button", name="차단하기").click()
    await expect(page.locator("#flash")).to_contain_text(BLOCK_MESSAGE)
    await expect(intern.get_by_test_id("status")).to_have_text("차단됨")
    await screenshot(page, "seed-step5-blocked")
    # their next chat request, through the OpenAI SDK, is refused with the message
    client = openai.AsyncOpenAI(
        base_url=f"{site.base}/v1", api_key=site.user("정인턴").key, max_retries=0
    )
    with pytest.raises(openai.PermissionDeniedError) as refused:
        await client.chat.completions.create(
            model="C1", messages=[{"role": "user", "content": "오늘의 칼럼"}]
        )
    assert BLOCK_MESSAGE in refused.value.message
    await client.close()

    # Step 6: 사용량 모니터링 — warnings, plan averages, top 5
    await _tab(page, "사용량 모니터링")
    warnings = page.get_by_test_id("warnings")
    for name in ("정인턴", "데모관리자"):
        await expect(warnings.locator(f"[data-user={name}]")).to_contain_text("95%")
    averages = page.get_by_test_id("plan-averages")
    for plan in ("Enterprise", "Pro", "Basic", "Free"):
        await expect(averages.locator(f"[data-plan={plan}]")).to_contain_text("%")
    await expect(page.get_by_test_id("top-users").locator("tbody tr")).to_have_count(5)
    await screenshot(page, "seed-step6-monitoring")
