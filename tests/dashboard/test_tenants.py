"""테넌트 관리: the seed's step 3 on the demo data, plan changes that apply at once, onboarding,
archiving, and who may see and change what."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import expect

from tests.dashboard.conftest import Browser, Site, open_signed_in, serious_violations, sign_in

SEOUL = "서울경제신문"
DEMO = "데모신문사"


def row_cells(html: str, tenant: str) -> dict[str, str]:
    """The text of each cell with a data-testid in the tenant's row."""
    row = re.search(
        rf'<tr data-testid="tenant-row" data-tenant="{re.escape(tenant)}">(.*?)</tr>', html, re.S
    )
    assert row is not None, f"no row for {tenant}"
    return {
        testid: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
        for testid, text in re.findall(r'data-testid="([a-z-]+)">(.*?)</td>', row[1], re.S)
    }


def listed(html: str) -> list[str]:
    return re.findall(r'data-testid="tenant-row" data-tenant="([^"]+)"', html)


def flash(html: str) -> str:
    found = re.search(r'<div class="flash (?:error|success)"[^>]*>\s*<p>(.*?)</p>', html, re.S)
    assert found is not None, html[:2000]
    return found[1]


async def api(site: Site, method: str, path: str, **kw: Any) -> Any:
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as client:
        answer = await client.request(method, f"/api/v1{path}", **kw)
        assert answer.status_code < 300, answer.text
        return answer.json()


async def audited(site: Site, action: str, target_id: int) -> list[dict[str, Any]]:
    found = await api(site, "GET", "/audit", params={"action": action, "target_id": target_id})
    return list(found["items"])


async def chat(site: Site, key: str, model: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=site.base, timeout=30) as client:
        return await client.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": model, "messages": [{"role": "user", "content": "칼럼 초안"}]},
        )


async def test_the_system_admin_sees_every_tenant_with_its_plan_engines_and_seats(
    site: Site, admin: Browser
) -> None:
    page = await admin.http.get("/tenants")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="ko">' in html and "<h1>테넌트 관리</h1>" in html
    assert sorted(listed(html)) == sorted(
        ["서울경제신문", "조선일보", "한국경제신문", "중앙일보", DEMO]
    )
    seoul, demo = row_cells(html, SEOUL), row_cells(html, DEMO)
    assert (seoul["plan"], seoul["engines"], seoul["seats"]) == (
        "Enterprise",
        "C1, C2, C7",
        "5 / 100",
    )
    assert (demo["plan"], demo["engines"], demo["seats"]) == ("Free", "C1", "2 / 5")
    assert row_cells(html, "중앙일보")["seats"] == "2 / 20"
    assert seoul["status"] == "활성"
    # the month's tokens are the rollups' own sum: one more request adds exactly its tokens
    before = int(demo["tokens"].replace(",", ""))
    answer = await chat(site, site.user("데모기자").key, "C1")
    assert answer.status_code == 200, answer.text
    after = row_cells((await admin.http.get("/tenants")).text, DEMO)["tokens"]
    assert int(after.replace(",", "")) == before + answer.json()["usage"]["total_tokens"]
    for needed in ('<th scope="col">', 'class="table-wrap"', "htmx-indicator", "<dialog"):
        assert needed in html


async def test_the_page_reads_in_english_and_htmx_gets_only_the_rows(
    site: Site, admin: Browser
) -> None:
    english = await sign_in(site, lang="en")
    html = (await english.http.get("/tenants")).text
    assert '<html lang="en">' in html and "Onboard a new tenant" in html
    assert row_cells(html, SEOUL)["status"] == "Active"
    fragment = await english.http.get(
        "/tenants",
        params={"search": "데모"},
        headers={"HX-Request": "true", "HX-Target": "tenant-listing"},
    )
    assert "<html" not in fragment.text and "<form" not in fragment.text.split("tenant-listing")[0]
    assert listed(fragment.text) == [DEMO]
    empty = await english.http.get("/tenants", params={"search": "없는 신문사"})
    assert 'class="empty"' in empty.text and "No tenants match." in empty.text
    await english.http.aclose()


async def test_an_upgrade_through_the_form_opens_c2_on_the_next_request(
    site: Site, admin: Browser
) -> None:
    tenant_id = site.tenant_id(DEMO)
    reporter = site.user("데모기자").key
    refused = await chat(site, reporter, "C2")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "model_not_allowed"

    form = (await admin.http.get(f"/tenants/{tenant_id}")).text
    assert 'name="plan"' in form and '<label for="tenant-plan">플랜</label>' in form
    answer = await admin.htmx(
        "POST",
        f"/tenants/{tenant_id}",
        data={
            "name": DEMO,
            "plan": "Enterprise",
            "timezone": "Asia/Seoul",
            "locale": "ko",
            "currency": "USD",
            "local_login": "yes",
        },
    )
    assert answer.status_code == 200, answer.text
    assert flash(answer.text) == f"{DEMO}의 변경 사항을 저장했습니다."
    assert re.search(r'data-testid="engines">.*?C1, C2, C7', answer.text, re.S)

    allowed = await chat(site, reporter, "C2")
    assert allowed.status_code == 200, allowed.text
    assert (await api(site, "GET", f"/tenants/{tenant_id}"))["plan"] == "Enterprise"
    (event,) = await audited(site, "tenant.update", tenant_id)
    assert (event["actor"], event["before"]["plan"], event["after"]["plan"]) == (
        "admin@tokengate.demo",
        "Free",
        "Enterprise",
    )
    # and back down: the plain form (no htmx) answers with the page it redirects to
    down = await admin.post(f"/tenants/{tenant_id}", {"plan": "Basic"}, follow_redirects=True)
    assert down.status_code == 200 and "변경 사항을 저장했습니다" in down.text
    assert (await chat(site, reporter, "C2")).status_code == 403
    assert len(await audited(site, "tenant.update", tenant_id)) == 2


async def test_onboarding_creates_audits_and_lists_the_tenant(site: Site, admin: Browser) -> None:
    answer = await admin.htmx(
        "POST",
        "/tenants",
        data={
            "name": "부산일보",
            "plan": "Basic",
            "timezone": "Asia/Seoul",
            "locale": "ko",
            "currency": "krw",
            "local_login": "yes",
        },
    )
    assert answer.status_code == 200, answer.text
    assert flash(answer.text) == "부산일보을(를) 만들었습니다."
    cells = row_cells(answer.text, "부산일보")
    assert (cells["plan"], cells["engines"], cells["seats"], cells["tokens"]) == (
        "Basic",
        "C1",
        "0 / 20",
        "0",
    )
    found = await api(site, "GET", "/tenants", params={"search": "부산일보"})
    (created,) = found["items"]
    assert (created["plan"], created["currency"], created["timezone"]) == (
        "Basic",
        "KRW",
        "Asia/Seoul",
    )
    (event,) = await audited(site, "tenant.create", created["id"])
    assert event["after"]["name"] == "부산일보"


async def test_bad_onboarding_input_is_explained_and_creates_nothing(
    site: Site, admin: Browser
) -> None:
    english = await sign_in(site, lang="en")
    cases = [
        ({"name": "  ", "plan": "Basic"}, 400, "Enter a name of up to 200 characters."),
        ({"name": SEOUL, "plan": "Basic"}, 409, f"A tenant named {SEOUL} already exists."),
        (
            {"name": "부산일보", "plan": "Platinum"},
            400,
            "Platinum is not a plan that can be chosen.",
        ),
        ({"name": "부산일보", "plan": "Basic", "timezone": "Mars/Base"}, 400, "Choose a timezone"),
        ({"name": "부산일보", "plan": "Basic", "currency": "WON!"}, 400, "three-letter code"),
    ]
    for data, status, message in cases:
        answer = await english.htmx("POST", "/tenants", data=data)
        assert answer.status_code == status, (data, answer.text)
        assert answer.headers["HX-Retarget"] == "#flash"
        assert message in flash(answer.text)
    korean = await admin.htmx("POST", "/tenants", data={"name": SEOUL, "plan": "Basic"})
    assert flash(korean.text) == f"이름이 {SEOUL}인 테넌트가 이미 있습니다."
    plain = await admin.post("/tenants", {"name": "", "plan": "Basic"})
    assert plain.status_code == 400 and "이름을 200자 이내로 입력하세요." in plain.text
    assert (await api(site, "GET", "/tenants"))["items"].__len__() == 5
    assert await api(site, "GET", "/audit", params={"action": "tenant.create"}) == {
        "items": [],
        "next": None,
    }
    await english.http.aclose()


async def test_archiving_asks_first_then_archives_and_audits(site: Site, admin: Browser) -> None:
    tenant_id = site.tenant_id("중앙일보")
    html = (await admin.http.get("/tenants")).text
    dialog = re.search(
        rf'<dialog x-ref="dialog" aria-labelledby="archive-tenant-{tenant_id}".*?</dialog>',
        html,
        re.S,
    )
    assert dialog is not None
    assert "<h2" in dialog[0] and "중앙일보 테넌트를 보관할까요?" in dialog[0]
    assert dialog[0].count("<button") == 2
    answer = await admin.htmx("POST", f"/tenants/{tenant_id}/archive")
    assert answer.status_code == 200, answer.text
    assert flash(answer.text) == "중앙일보을(를) 보관했습니다."
    assert "중앙일보" not in listed(answer.text)
    shown = (await admin.http.get("/tenants", params={"archived": "true"})).text
    assert row_cells(shown, "중앙일보")["status"] == "보관됨"
    assert (await api(site, "GET", f"/tenants/{tenant_id}"))["archived"] is True
    assert len(await audited(site, "tenant.archive", tenant_id)) == 1
    again = await admin.htmx("POST", f"/tenants/{tenant_id}/archive")
    assert again.status_code == 409 and flash(again.text) == "중앙일보은(는) 이미 보관되었습니다."


async def test_a_tenant_admin_sees_and_changes_only_their_own_settings(site: Site) -> None:
    boss = await sign_in(site, site.user("김현우").email)
    seoul, other = site.tenant_id(SEOUL), site.tenant_id("조선일보")
    html = (await boss.http.get("/tenants")).text
    assert listed(html) == [SEOUL]
    assert "새 테넌트 등록" not in html and "<dialog" not in html
    assert (await boss.http.get(f"/tenants/{other}")).status_code == 404
    assert (
        await boss.htmx("POST", f"/tenants/{other}", data={"timezone": "UTC"})
    ).status_code == 404
    form = (await boss.http.get(f"/tenants/{seoul}")).text
    assert 'name="timezone"' in form and 'name="plan"' not in form and 'name="name"' not in form
    # the name, plan and currency are the system administrators'
    refused = await boss.htmx("POST", f"/tenants/{seoul}", data={"plan": "Free"})
    assert refused.status_code == 403 and "시스템 관리자만" in flash(refused.text)
    assert (
        await boss.htmx("POST", "/tenants", data={"name": "새 신문사", "plan": "Free"})
    ).status_code == 403
    assert (await boss.htmx("POST", f"/tenants/{seoul}/archive")).status_code == 403
    assert (await api(site, "GET", f"/tenants/{seoul}"))["plan"] == "Enterprise"
    changed = await boss.htmx(
        "POST",
        f"/tenants/{seoul}",
        data={"timezone": "Asia/Tokyo", "locale": "ko", "local_login": "yes"},
    )
    assert changed.status_code == 200, changed.text
    assert (await api(site, "GET", f"/tenants/{seoul}"))["timezone"] == "Asia/Tokyo"
    (event,) = await audited(site, "tenant.update", seoul)
    assert event["actor"] == site.user("김현우").email
    await boss.http.aclose()


async def test_a_member_gets_no_tenants_page_and_no_writes(site: Site) -> None:
    reporter = await sign_in(site, site.user("이기자").email, lang="en")
    seoul = site.tenant_id(SEOUL)
    page = await reporter.http.get("/tenants")
    assert page.status_code == 403 and "Only administrators can open this page." in page.text
    assert (await reporter.http.get(f"/tenants/{seoul}")).status_code == 403
    for url, data in (
        (f"/tenants/{seoul}", {"timezone": "UTC"}),
        ("/tenants", {"name": "x", "plan": "Free"}),
        (f"/tenants/{seoul}/archive", {}),
    ):
        answer = await reporter.htmx("POST", url, data=data)
        assert answer.status_code in (403, 404), url
    assert (await api(site, "GET", f"/tenants/{seoul}"))["timezone"] == "Asia/Seoul"
    await reporter.http.aclose()


async def test_a_form_without_its_token_is_refused(site: Site, admin: Browser) -> None:
    answer = await admin.http.post("/tenants", data={"name": "부산일보", "plan": "Basic"})
    assert answer.status_code == 403
    assert (await api(site, "GET", "/tenants", params={"search": "부산"}))["items"] == []


async def test_in_a_browser_at_phone_width(site: Site, chromium: PlaywrightBrowser) -> None:
    page = await open_signed_in(chromium, site, width=360, height=740)
    await page.goto("/tenants")
    await expect(page.get_by_test_id("tenant-row")).to_have_count(5)
    # nothing wider than the screen: the table scrolls inside its own box
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert not await serious_violations(page)
    await page.get_by_label("이름으로 검색").fill("데모")
    await expect(page.get_by_test_id("tenant-row")).to_have_count(1)
    # the filter is in the address: reloading it is an ordinary full page
    await expect(page).to_have_url(re.compile(r"/tenants\?search=%EB%8D%B0%EB%AA%A8"))
    await page.reload()
    await expect(page.get_by_test_id("tenant-row")).to_have_count(1)
    await expect(page.locator("#nav")).to_be_attached()
    await page.get_by_label("이름으로 검색").fill("")
    await expect(page.get_by_test_id("tenant-row")).to_have_count(5)

    row = page.locator("[data-testid=tenant-row][data-tenant=중앙일보]")
    await row.get_by_role("button", name="보관 중앙일보").click()
    dialog = page.get_by_role("dialog", name="중앙일보 테넌트를 보관할까요?")
    await expect(dialog).to_be_visible()
    assert not await serious_violations(page)
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await row.get_by_role("button", name="보관 중앙일보").click()
    await dialog.get_by_role("button", name="보관", exact=True).click()
    await expect(page.locator(".flash.success")).to_have_text("중앙일보을(를) 보관했습니다.")
    await expect(page.get_by_test_id("tenant-row")).to_have_count(4)
