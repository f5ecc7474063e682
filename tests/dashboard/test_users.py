"""사용자 관리: the seed's steps 4 and 5 over HTTP (the tenant filter, then blocking 정인턴 so
that chat refuses her), unblocking, individual plans, extra tokens, role scoping, both languages,
and bad input that changes nothing."""

from __future__ import annotations

import html as markup
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import expect

from tests.dashboard.conftest import Browser, Site, open_signed_in, serious_violations, sign_in
from tokengate.db import utcnow
from tokengate.demo.run import DEMO_ADMIN

SEOUL = ZoneInfo("Asia/Seoul")
BLOCKED_KO = "더 이상 채팅을 사용할 수 없습니다"


def row(page: str, name: str) -> str:
    """The table row of one person."""
    found = re.search(rf'<tr id="user-\d+" data-user="{name}".*?</tr>', page, re.S)
    assert found is not None, f"no row for {name}"
    return found[0]


def names(page: str) -> list[str]:
    return re.findall(r'<tr id="user-\d+" data-user="([^"]+)"', page)


def status(fragment: str) -> str:
    found = re.search(r'data-testid="status">([^<]+)<', fragment)
    assert found is not None
    return found[1]


def flash(page: str) -> str:
    """The notice an htmx answer puts in #flash, as text."""
    found = re.search(r'<div id="flash" hx-swap-oob="innerHTML">.*?<p>(.*?)</p>', page, re.S)
    assert found is not None, "no notice for #flash"
    return markup.unescape(found[1])


def error_flash(answer: httpx.Response) -> str:
    """A refusal shown to htmx: swapped into #flash."""
    assert answer.headers["HX-Retarget"] == "#flash", answer.text
    found = re.search(r'<div class="flash error">\s*<p>(.*?)</p>', answer.text, re.S)
    assert found is not None, answer.text
    return markup.unescape(found[1])


async def chat(site: Site, name: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=site.base, timeout=30) as client:
        return await client.post(
            "/v1/chat/completions",
            headers={
                "Authorization": f"Bearer {site.user(name).key}",
                "Accept-Language": "ko",
            },
            json={"model": "C1", "messages": [{"role": "user", "content": "칼럼 초안"}]},
        )


async def api(site: Site, path: str, **params: Any) -> Any:
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as client:
        answer = await client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


async def audit(site: Site, action: str, target_id: int | str) -> list[dict[str, Any]]:
    found = await api(site, "/api/v1/audit", action=action, target_id=str(target_id))
    items: list[dict[str, Any]] = found["items"]
    return items


async def plan_usage(site: Site, user_id: int) -> dict[str, Any]:
    """The user's monthly plan allowance as the admin API reads it from the ledger."""
    found = await api(site, "/api/v1/usage/current", scope="user", id=user_id)
    return next(item for item in found["items"] if item["source"] == "plan")


async def test_step_4_the_tenant_filter_shows_the_three_percentages(
    site: Site, admin: Browser
) -> None:
    seoul = site.tenant_id("서울경제신문")
    page = await admin.http.get("/users", params={"tenant_id": seoul})
    assert page.status_code == 200
    html = page.text
    assert '<label for="tenant-filter">테넌트</label>' in html
    assert '<select id="tenant-filter" name="tenant_id">' in html
    assert f'<option value="{seoul}" selected>서울경제신문</option>' in html
    assert 'hx-target="#user-rows"' in html and 'hx-push-url="true"' in html
    assert sorted(names(html)) == sorted(["김현우", "이기자", "박기자", "정인턴", "최수진"])
    for name, percent, band in (
        ("이기자", "45%", "safe"),
        ("박기자", "80%", "warning"),
        ("정인턴", "95%", "danger"),
    ):
        line = row(html, name)
        assert f'<span class="pct {band}">{percent}</span>' in line, line
        assert status(line) == "활성" and ">차단</button>" in line
        assert "Enterprise" in line and "서울경제신문" in line
    assert "9,500,000 / 10,000,000" in row(html, "정인턴")
    # htmx asks for the rows only when a filter changes
    fragment = await admin.http.get(
        "/users",
        params={"tenant_id": seoul},
        headers={"HX-Request": "true", "HX-Target": "user-rows"},
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'id="user-filters"' not in fragment.text
    assert sorted(names(fragment.text)) == sorted(names(html))
    everyone = (await admin.http.get("/users", params={"tenant_id": ""})).text
    assert len(names(everyone)) >= 15 and "데모관리자" in names(everyone)


async def test_step_5_blocking_jung_stops_her_chat_until_she_is_unblocked(
    site: Site, admin: Browser
) -> None:
    intern = site.user("정인턴")
    assert (await chat(site, "정인턴")).status_code == 200

    answer = await admin.htmx("POST", f"/users/{intern.id}/block", data={"reason": "한도 임박"})
    assert answer.status_code == 200, answer.text
    changed = row(answer.text, "정인턴")
    assert status(changed) == "차단됨" and ">차단 해제</button>" in changed
    assert flash(answer.text) == "정인턴 님은 이제 차단되어 더 이상 채팅을 사용할 수 없습니다."

    refused = await chat(site, "정인턴")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "user_blocked" and BLOCKED_KO in error["message"]

    user = await api(site, f"/api/v1/users/{intern.id}")
    assert (user["status"], user["blocked_reason"]) == ("blocked", "한도 임박")
    [record] = await audit(site, "user.block", intern.id)
    assert record["actor"] == DEMO_ADMIN and record["after"]["status"] == "blocked"
    listed = (await admin.http.get("/users", params={"status": "blocked"})).text
    assert names(listed) == ["정인턴"]

    answer = await admin.htmx("POST", f"/users/{intern.id}/unblock")
    assert answer.status_code == 200, answer.text
    changed = row(answer.text, "정인턴")
    assert status(changed) == "활성" and ">차단</button>" in changed
    assert "다시 채팅을 사용할 수 있습니다" in flash(answer.text)
    assert (await chat(site, "정인턴")).status_code == 200
    assert len(await audit(site, "user.unblock", intern.id)) == 1
    # unblocking again is refused, readably
    again = await admin.htmx("POST", f"/users/{intern.id}/unblock")
    assert again.status_code == 409 and "차단되어 있지 않습니다" in error_flash(again)


async def test_an_individual_plan_changes_the_allowance_from_the_ledger(
    site: Site, admin: Browser
) -> None:
    reporter = site.user("데모기자")  # Free: 14% of 100,000 tokens
    page = (await admin.http.get(f"/users/{reporter.id}")).text
    assert '<select id="plan-select" name="plan">' in page and "14%" in page

    answer = await admin.htmx("POST", f"/users/{reporter.id}/plan", data={"plan": "Basic"})
    assert answer.status_code == 200, answer.text
    assert flash(answer.text) == "데모기자 님에게 이제 Basic 플랜이 적용됩니다."
    ledger = await plan_usage(site, reporter.id)
    assert ledger["amount"] == 1_000_000
    assert f'data-testid="amount">{ledger["amount"]:,}<' in answer.text
    assert '<span class="pct safe">1.4%</span>' in answer.text
    listed = row((await admin.http.get("/users")).text, "데모기자")
    assert "Basic" in listed and "개별" in listed and "1.4%" in listed
    [record] = await audit(site, "user.update", reporter.id)
    assert record["actor"] == DEMO_ADMIN

    # a plain form post (no htmx) answers with the person's whole page
    answer = await admin.post(f"/users/{reporter.id}/plan", {"plan": ""})
    assert answer.status_code == 200 and "<html" in answer.text
    assert "데모기자 님에게 이제 테넌트 플랜(Free)이 적용됩니다." in answer.text
    assert (await plan_usage(site, reporter.id))["amount"] == 100_000
    assert '<span class="pct safe">14%</span>' in answer.text


async def test_extra_tokens_lower_the_percentage(site: Site, admin: Browser) -> None:
    intern = site.user("정인턴")
    until = (utcnow().astimezone(SEOUL) + timedelta(days=7)).date()
    answer = await admin.htmx(
        "POST",
        f"/users/{intern.id}/grants",
        data={"amount": "10000000", "expires": until.isoformat(), "reason": "마감 주간"},
    )
    assert answer.status_code == 200, answer.text
    assert flash(answer.text).startswith("정인턴 님에게 ")
    assert "10,000,000 토큰이 추가되었습니다" in flash(answer.text)
    assert '<span class="pct safe">47.5%</span>' in answer.text
    assert 'data-testid="grant"' in answer.text and "마감 주간" in answer.text
    assert (await plan_usage(site, intern.id))["amount"] == 20_000_000
    grants = (await api(site, "/api/v1/grants"))["items"]
    [grant] = [g for g in grants if g["user_id"] == intern.id]
    assert grant["amount"] == 10_000_000 and grant["reason"] == "마감 주간"
    assert len(await audit(site, "grant.create", grant["id"])) == 1
    listed = row((await admin.http.get("/users")).text, "정인턴")
    assert "47.5%" in listed and "9,500,000 / 20,000,000" in listed


async def test_bad_input_is_explained_and_changes_nothing(site: Site, admin: Browser) -> None:
    intern = site.user("정인턴")
    today = utcnow().astimezone(SEOUL).date()
    cases = [
        ("grants", {"amount": "-5", "expires": (today + timedelta(days=3)).isoformat()}, "정수"),
        ("grants", {"amount": "많이", "expires": (today + timedelta(days=3)).isoformat()}, "정수"),
        ("grants", {"amount": "1000", "expires": (today - timedelta(days=1)).isoformat()}, "지났"),
        ("grants", {"amount": "1000", "expires": "내일"}, "만료일"),
        ("plan", {"plan": "Platinum"}, "플랜은 없습니다"),
        ("block", {"reason": "가" * 501}, "500자"),
    ]
    for action, data, words in cases:
        answer = await admin.htmx("POST", f"/users/{intern.id}/{action}", data=data)
        assert answer.status_code == 400, (action, data, answer.text)
        assert words in error_flash(answer), (action, error_flash(answer))
    user = await api(site, f"/api/v1/users/{intern.id}")
    assert user["status"] == "active"
    assert not [g for g in (await api(site, "/api/v1/grants"))["items"] if g["user_id"]]
    assert (await plan_usage(site, intern.id))["amount"] == 10_000_000
    assert not await audit(site, "user.block", intern.id)
    # a plain form post (no htmx) gets a whole page saying the same
    page = await admin.post(f"/users/{intern.id}/grants", {"amount": "0", "expires": "x"})
    assert page.status_code == 400 and "<html" in page.text and "정수" in page.text
    odd = await admin.http.get("/users", params={"tenant_id": "서울"})
    assert odd.status_code == 400 and "tenant_id" in odd.text
    # without the form token nothing happens at all
    forged = await admin.http.post(f"/users/{intern.id}/block", data={"reason": ""})
    assert forged.status_code == 403
    assert (await api(site, f"/api/v1/users/{intern.id}"))["status"] == "active"


async def test_a_tenant_admin_manages_only_their_tenant(site: Site) -> None:
    boss = await sign_in(site, site.user("김현우").email)
    page = (await boss.http.get("/users")).text
    assert sorted(names(page)) == sorted(["김현우", "이기자", "박기자", "정인턴", "최수진"])
    assert 'id="tenant-filter"' not in page and "서울경제신문" in page
    assert ">차단</button>" not in row(page, "김현우")  # nobody is offered to block themself
    other = site.tenant_id("데모신문사")
    assert (await boss.http.get("/users", params={"tenant_id": other})).status_code == 404
    demo_admin = site.user("데모관리자")
    assert (await boss.http.get(f"/users/{demo_admin.id}")).status_code == 404
    refused = await boss.htmx("POST", f"/users/{demo_admin.id}/block", data={"reason": ""})
    assert refused.status_code == 404
    assert (await api(site, f"/api/v1/users/{demo_admin.id}"))["status"] == "active"
    # an individual plan is the system administrators' decision, as in the API
    intern = site.user("정인턴")
    detail = (await boss.http.get(f"/users/{intern.id}")).text
    assert 'id="plan-select"' not in detail and 'id="grant-form"' in detail
    plan = await boss.htmx("POST", f"/users/{intern.id}/plan", data={"plan": "Free"})
    assert plan.status_code == 403 and "시스템 관리자" in error_flash(plan)
    assert (await plan_usage(site, intern.id))["amount"] == 10_000_000
    # blocking within the tenant works for its admin
    blocked = await boss.htmx("POST", f"/users/{intern.id}/block", data={"reason": ""})
    assert blocked.status_code == 200 and status(row(blocked.text, "정인턴")) == "차단됨"
    [record] = await audit(site, "user.block", intern.id)
    assert record["actor"] == site.user("김현우").email
    await boss.http.aclose()


async def test_members_are_refused_and_team_leaders_see_their_teams(site: Site) -> None:
    reporter = await sign_in(site, site.user("이기자").email)
    assert (await reporter.http.get("/users")).status_code == 403
    intern = site.user("정인턴")
    assert (await reporter.http.get(f"/users/{intern.id}")).status_code == 403
    refused = await reporter.htmx("POST", f"/users/{intern.id}/block", data={"reason": ""})
    assert refused.status_code == 404
    await reporter.http.aclose()

    # 이기자 becomes a leader of 디지털뉴스부 (정인턴's and 김현우's desk)
    seoul = site.tenant_id("서울경제신문")
    teams = await api(site, "/api/v1/teams", tenant_id=seoul)
    desk = next(t for t in teams["items"] if t["name"] == "디지털뉴스부")
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as client:
        made = await client.post(
            f"/api/v1/teams/{desk['id']}/members",
            json={"user_id": site.user("이기자").id, "role": "leader"},
        )
        assert made.status_code == 201, made.text
    leader = await sign_in(site, site.user("이기자").email)
    page = (await leader.http.get("/users")).text
    assert sorted(names(page)) == sorted(["김현우", "이기자", "정인턴"])
    assert ">차단</button>" in row(page, "정인턴")
    assert ">차단</button>" not in row(page, "김현우")  # leaders do not block administrators
    boss = site.user("김현우")
    refused = await leader.htmx("POST", f"/users/{boss.id}/block", data={"reason": ""})
    assert refused.status_code == 403
    blocked = await leader.htmx("POST", f"/users/{intern.id}/block", data={"reason": ""})
    assert blocked.status_code == 200 and status(row(blocked.text, "정인턴")) == "차단됨"
    await leader.http.aclose()


async def test_the_page_in_english(site: Site) -> None:
    admin = await sign_in(site, lang="en")
    seoul = site.tenant_id("서울경제신문")
    page = (await admin.http.get("/users", params={"tenant_id": seoul})).text
    assert '<html lang="en">' in page and "<h1>Users</h1>" in page
    assert '<label for="tenant-filter">Tenant</label>' in page
    line = row(page, "박기자")
    assert status(line) == "Active" and ">Block</button>" in line and "80%" in line
    assert ">Block user</button>" in page and ">Cancel</button>" in page
    intern = site.user("정인턴")
    answer = await admin.htmx("POST", f"/users/{intern.id}/block", data={"reason": ""})
    assert status(row(answer.text, "정인턴")) == "Blocked"
    assert flash(answer.text) == "정인턴 is blocked and can no longer use chat."
    bad = await admin.htmx("POST", f"/users/{intern.id}/grants", data={"amount": "x"})
    assert "whole number" in error_flash(bad)
    await admin.http.aclose()


async def test_steps_4_and_5_in_a_browser_with_the_keyboard(
    site: Site, chromium: PlaywrightBrowser
) -> None:
    page = await open_signed_in(chromium, site)
    await page.goto("/users")
    await page.get_by_label("테넌트").select_option(label="서울경제신문")
    await page.wait_for_url(f"**/users?tenant_id={site.tenant_id('서울경제신문')}*")
    rows = page.locator("#user-rows tr[data-user]")
    await expect(rows).to_have_count(5)
    intern = page.locator('tr[data-user="정인턴"]')
    await expect(intern.locator(".pct")).to_have_text("95%")
    await expect(page.locator('tr[data-user="이기자"] .pct')).to_have_text("45%")
    await expect(page.locator('tr[data-user="박기자"] .pct')).to_have_text("80%")
    assert not await serious_violations(page)

    # the dialog opens with the focus inside; Esc closes it and the focus returns
    block = intern.get_by_role("button", name="차단")
    await block.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("#block-name")).to_have_text("정인턴")
    assert await page.evaluate(
        "document.getElementById('block-dialog').contains(document.activeElement)"
    )
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(block).to_be_focused()

    await block.click()
    await dialog.get_by_label("사유 (선택)").fill("한도 임박")
    await dialog.get_by_role("button", name="차단하기").click()
    await expect(dialog).to_be_hidden()
    await expect(intern.get_by_test_id("status")).to_have_text("차단됨")
    await expect(page.locator("#flash")).to_contain_text(BLOCKED_KO)
    await expect(intern.get_by_role("button", name="차단 해제")).to_be_focused()
    assert (await chat(site, "정인턴")).status_code == 403

    await intern.get_by_role("button", name="차단 해제").click()
    await expect(intern.get_by_test_id("status")).to_have_text("활성")
    await expect(page.locator("#flash")).to_contain_text("다시 채팅을 사용할 수 있습니다")
    await expect(intern.get_by_role("button", name="차단")).to_be_focused()

    # a phone: nothing wider than the screen, the table scrolls in its own box
    await page.set_viewport_size({"width": 360, "height": 740})
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


async def test_an_individual_plan_in_a_browser(site: Site, chromium: PlaywrightBrowser) -> None:
    page = await open_signed_in(chromium, site, lang="en")
    await page.goto(f"/users/{site.user('데모기자').id}")
    await expect(page.get_by_test_id("allowance").locator(".pct")).to_have_text("14%")
    await page.get_by_label("Plan", exact=True).select_option(value="Basic")
    await page.get_by_role("button", name="Save plan").click()
    await expect(page.locator("#flash")).to_contain_text("데모기자 now has the Basic plan.")
    await expect(page.get_by_test_id("allowance").locator(".pct")).to_have_text("1.4%")
    await expect(page.locator("#user-title")).to_be_focused()
    assert not await serious_violations(page)
