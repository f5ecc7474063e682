"""팀 관리: teams searched and filtered, created, edited and archived; their members added,
promoted, moved and removed (the last leader names a successor); each role seeing what the
API lets it see, every write checked through the API and the audit log."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import expect

from tests.dashboard.conftest import Browser, Site, open_signed_in, serious_violations, sign_in

SEOUL = "서울경제신문"


def listed(html: str) -> list[tuple[str, str]]:
    """(team, tenant) of each row of the teams table."""
    return re.findall(r'data-testid="team-row" data-team="([^"]+)" data-tenant="([^"]*)"', html)


def roster(html: str) -> dict[str, str]:
    """Each member's name and role as the team page shows them."""
    rows = re.findall(
        r'data-testid="member-row" data-member="([^"]+)">.*?data-testid="role"><span[^>]*>([^<]+)<',
        html,
        re.S,
    )
    return dict(rows)


def flash(html: str) -> str:
    found = re.search(r'<div class="flash (?:error|success)"[^>]*>\s*<p>(.*?)</p>', html, re.S)
    assert found is not None, html[:2000]
    return found[1]


async def api(site: Site, method: str, path: str, **kw: Any) -> Any:
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as client:
        answer = await client.request(method, f"/api/v1{path}", **kw)
        assert answer.status_code < 300, answer.text
        return answer.json()


async def team_id(site: Site, tenant: str, name: str) -> int:
    found = await api(
        site, "GET", "/teams", params={"tenant_id": site.tenant_id(tenant), "search": name}
    )
    return next(int(t["id"]) for t in found["items"] if t["name"] == name)


async def members(site: Site, team: int) -> dict[int, str]:
    found = await api(site, "GET", f"/teams/{team}/members")
    return {m["user_id"]: m["role"] for m in found["items"]}


async def audited(site: Site, action: str, team: int) -> list[dict[str, Any]]:
    found = await api(site, "GET", "/audit", params={"action": action, "target_id": team})
    return list(found["items"])


async def test_the_system_admin_searches_and_filters_teams(site: Site, admin: Browser) -> None:
    html = (await admin.http.get("/teams")).text
    assert '<html lang="ko">' in html and "<h1>팀 관리</h1>" in html
    rows = listed(html)
    assert ("경제부", SEOUL) in rows and ("경제부", "조선일보") in rows and len(rows) == 12
    digital = re.search(
        rf'data-team="디지털뉴스부" data-tenant="{SEOUL}">.*?data-testid="leaders">([^<]+)<',
        html,
        re.S,
    )
    assert digital is not None and digital[1] == "김현우"
    for needed in ('<th scope="col">', 'class="table-wrap"', "htmx-indicator", 'for="team-search"'):
        assert needed in html
    only = await admin.http.get(
        "/teams",
        params={"tenant_id": site.tenant_id(SEOUL), "search": "부"},
        headers={"HX-Request": "true", "HX-Target": "team-listing"},
    )
    assert "<h1>" not in only.text
    assert sorted(listed(only.text)) == sorted(
        (name, SEOUL) for name in ("경제부", "정치부", "사회부", "디지털뉴스부")
    )
    searched = await admin.http.get("/teams", params={"search": "디지털"})
    assert sorted(t for t, _ in listed(searched.text)) == ["디지털뉴스부", "디지털뉴스부"]
    none = await admin.http.get("/teams", params={"search": "없는 팀"})
    assert 'class="empty"' in none.text and "조건에 맞는 팀이 없습니다." in none.text


async def test_a_team_is_created_edited_and_archived(site: Site) -> None:
    boss = await sign_in(site, site.user("김현우").email, lang="en")
    created = await boss.htmx("POST", "/teams", data={"name": "국제부", "description": "해외 취재"})
    assert created.status_code == 200, created.text
    assert flash(created.text) == "국제부 was created."
    assert ("국제부", SEOUL) in listed(created.text)
    team = await team_id(site, SEOUL, "국제부")
    shown = await api(site, "GET", f"/teams/{team}")
    assert (shown["description"], shown["owner_user_id"]) == ("해외 취재", site.user("김현우").id)
    assert len(await audited(site, "team.create", team)) == 1

    for data, status, message in (
        ({"name": "경제부"}, 409, "This tenant already has a team named 경제부."),
        ({"name": " "}, 400, "Enter a team name of up to 200 characters."),
    ):
        refused = await boss.htmx("POST", "/teams", data=data)
        assert (refused.status_code, flash(refused.text)) == (status, message)
    teams = await api(site, "GET", "/teams", params={"tenant_id": site.tenant_id(SEOUL)})
    assert len(teams["items"]) == 5

    page = (await boss.http.get(f"/teams/{team}")).text
    assert '<label for="team-name">Name</label>' in page and "This team has no members yet." in page
    edited = await boss.htmx(
        "POST",
        f"/teams/{team}",
        data={
            "name": "국제팀",
            "description": "해외·외교 취재",
            "owner_user_id": str(site.user("최수진").id),
        },
    )
    assert edited.status_code == 200, edited.text
    assert flash(edited.text) == "Changes to 국제팀 were saved."
    shown = await api(site, "GET", f"/teams/{team}")
    assert (shown["name"], shown["owner_user_id"]) == ("국제팀", site.user("최수진").id)
    (event,) = await audited(site, "team.update", team)
    assert (event["before"]["name"], event["after"]["name"]) == ("국제부", "국제팀")
    clash = await boss.htmx("POST", f"/teams/{team}", data={"name": "정치부"})
    assert (
        clash.status_code == 409 and (await api(site, "GET", f"/teams/{team}"))["name"] == "국제팀"
    )

    listing = (await boss.http.get("/teams")).text
    assert (
        f'aria-labelledby="archive-team-{team}"' in listing
        and "Archive the team 국제팀?" in listing
    )
    archived = await boss.htmx("POST", f"/teams/{team}/archive")
    assert archived.status_code == 200 and flash(archived.text) == "국제팀 was archived."
    assert "국제팀" not in [t for t, _ in listed(archived.text)]
    assert (await api(site, "GET", f"/teams/{team}"))["archived"] is True
    assert len(await audited(site, "team.archive", team)) == 1
    # the plain form works without htmx: it answers with the page it sends the browser to
    plain = await boss.post("/teams", {"name": "문화부"}, follow_redirects=True)
    assert plain.status_code == 200 and "문화부 was created." in plain.text
    await boss.http.aclose()


async def test_members_are_added_promoted_moved_and_removed(site: Site, admin: Browser) -> None:
    economy = await team_id(site, SEOUL, "경제부")
    politics = await team_id(site, SEOUL, "정치부")
    lee, intern, park = site.user("이기자"), site.user("정인턴"), site.user("박기자")
    page = (await admin.http.get(f"/teams/{economy}")).text
    assert roster(page) == {"이기자": "팀원"}
    assert (
        f'<option value="{intern.id}">' in page and '<label for="add-person">사용자</label>' in page
    )

    added = await admin.htmx("POST", f"/teams/{economy}/members", data={"user_id": str(intern.id)})
    assert added.status_code == 200, added.text
    assert flash(added.text) == "정인턴을(를) 경제부의 팀원으로 추가했습니다."
    assert roster(added.text) == {"이기자": "팀원", "정인턴": "팀원"}
    assert await members(site, economy) == {lee.id: "member", intern.id: "member"}
    again = await admin.htmx("POST", f"/teams/{economy}/members", data={"user_id": str(intern.id)})
    assert (again.status_code, flash(again.text)) == (409, "정인턴은(는) 이미 경제부에 있습니다.")
    bad = await admin.htmx(
        "POST", f"/teams/{economy}/members", data={"user_id": "", "role": "boss"}
    )
    assert bad.status_code == 400
    assert flash(bad.text) == "추가할 사용자를 선택하세요. 역할로 리더 또는 팀원을 선택하세요."
    assert await members(site, economy) == {lee.id: "member", intern.id: "member"}
    assert len(await audited(site, "team.member.add", economy)) == 1

    promoted = await admin.htmx(
        "POST", f"/teams/{economy}/members/{lee.id}/role", data={"role": "leader"}
    )
    assert flash(promoted.text) == "이제 이기자이(가) 경제부의 리더입니다."
    assert roster(promoted.text)["이기자"] == "팀 리더"
    assert (await members(site, economy))[lee.id] == "leader"

    moved = await admin.htmx(
        "POST", f"/teams/{economy}/members/{intern.id}/move", data={"to_team_id": str(politics)}
    )
    assert flash(moved.text) == "정인턴을(를) 정치부(으)로 이동했습니다."
    assert intern.id not in await members(site, economy)
    assert await members(site, politics) == {park.id: "member", intern.id: "member"}

    removed = await admin.htmx("POST", f"/teams/{politics}/members/{intern.id}/remove")
    assert flash(removed.text) == "정인턴을(를) 정치부에서 제외했습니다."
    assert await members(site, politics) == {park.id: "member"}
    for action, team in (
        ("team.member.add", economy),
        ("team.member.update", economy),
        ("team.member.move", economy),
        ("team.member.remove", politics),
    ):
        (event,) = await audited(site, action, team)
        assert event["actor"] == "admin@tokengate.demo", action


async def test_the_last_leader_leaves_only_for_a_successor(site: Site, admin: Browser) -> None:
    digital = await team_id(site, SEOUL, "디지털뉴스부")
    kim, intern = site.user("김현우"), site.user("정인턴")
    english = await sign_in(site, lang="en")
    page = (await english.http.get(f"/teams/{digital}")).text
    dialog = re.search(
        rf'<dialog x-ref="dialog" aria-labelledby="remove-{kim.id}".*?</dialog>', page, re.S
    )
    assert dialog is not None and "Remove 김현우 from 디지털뉴스부?" in dialog[0]
    assert f'for="remove-successor-{kim.id}"' in dialog[0] and dialog[0].count("<button") == 2
    for browser, message in (
        (
            english,
            "김현우 is the last leader of 디지털뉴스부. "
            "Choose a successor who will lead the team instead.",
        ),
        (
            admin,
            "김현우은(는) 디지털뉴스부의 마지막 리더입니다. 대신 팀을 이끌 후임 리더를 선택하세요.",
        ),
    ):
        refused = await browser.htmx("POST", f"/teams/{digital}/members/{kim.id}/remove")
        assert (refused.status_code, flash(refused.text)) == (409, message)
        stepped = await browser.htmx(
            "POST", f"/teams/{digital}/members/{kim.id}/role", data={"role": "member"}
        )
        assert (stepped.status_code, flash(stepped.text)) == (409, message)
    assert await members(site, digital) == {kim.id: "leader", intern.id: "member"}
    assert await audited(site, "team.member.remove", digital) == []

    removed = await admin.htmx(
        "POST",
        f"/teams/{digital}/members/{kim.id}/remove",
        data={"successor_user_id": str(intern.id)},
    )
    assert removed.status_code == 200, removed.text
    assert flash(removed.text) == (
        "김현우을(를) 디지털뉴스부에서 제외했습니다. 이제 정인턴이(가) 팀을 이끕니다."
    )
    assert await members(site, digital) == {intern.id: "leader"}
    (event,) = await audited(site, "team.member.remove", digital)
    assert (event["before"]["user_id"], event["after"]["user_id"]) == (kim.id, intern.id)
    await english.http.aclose()


async def test_a_tenant_admin_reaches_only_their_tenants_teams(site: Site) -> None:
    boss = await sign_in(site, site.user("김현우").email)
    html = (await boss.http.get("/teams")).text
    assert {tenant for _, tenant in listed(html)} == {SEOUL} and len(listed(html)) == 4
    assert 'id="team-tenant"' not in html
    other = await team_id(site, "조선일보", "경제부")
    ours = await team_id(site, SEOUL, "경제부")
    assert (await boss.http.get(f"/teams/{other}")).status_code == 404
    assert (
        await boss.http.get("/teams", params={"tenant_id": site.tenant_id("조선일보")})
    ).status_code == 404
    stranger = site.user("윤서연")
    for url, data in (
        (f"/teams/{other}/members", {"user_id": str(site.user("정인턴").id)}),
        (f"/teams/{other}", {"name": "남의 팀"}),
        (f"/teams/{other}/archive", {}),
        (f"/teams/{ours}/members", {"user_id": str(stranger.id)}),
        ("/teams", {"name": "남의 팀", "tenant_id": str(site.tenant_id("조선일보"))}),
    ):
        answer = await boss.htmx("POST", url, data=data)
        assert answer.status_code == 404, (url, answer.text)
    assert (await api(site, "GET", f"/teams/{other}"))["name"] == "경제부"
    assert stranger.id not in await members(site, ours)
    await boss.http.aclose()


async def test_a_team_leader_manages_only_the_team_they_lead(site: Site) -> None:
    economy = await team_id(site, SEOUL, "경제부")
    politics = await team_id(site, SEOUL, "정치부")
    lee, park = site.user("이기자"), site.user("박기자")
    await api(site, "PATCH", f"/teams/{economy}/members/{lee.id}", json={"role": "leader"})
    leader = await sign_in(site, lee.email, lang="en")
    html = (await leader.http.get("/teams")).text
    assert (
        listed(html) == [("경제부", SEOUL)]
        and "Create a team" not in html
        and "<dialog" not in html
    )
    page = (await leader.http.get(f"/teams/{economy}")).text
    assert "Everyone you can add is already in this team." in page and "Team details" not in page
    assert (await leader.http.get(f"/teams/{politics}")).status_code == 404
    # the API lets a leader add a colleague of the tenant by id; the page does the same
    added = await leader.htmx("POST", f"/teams/{economy}/members", data={"user_id": str(park.id)})
    assert added.status_code == 200, added.text
    assert (await members(site, economy))[park.id] == "member"
    for url, data, status in (
        (f"/teams/{economy}", {"name": "경제팀"}, 403),
        (f"/teams/{economy}/archive", {}, 403),
        ("/teams", {"name": "새 팀"}, 403),
        (f"/teams/{politics}/members", {"user_id": str(lee.id)}, 404),
        (f"/teams/{economy}/members/{park.id}/move", {"to_team_id": str(politics)}, 404),
    ):
        answer = await leader.htmx("POST", url, data=data)
        assert answer.status_code == status, (url, answer.text)
    assert (await api(site, "GET", f"/teams/{economy}"))["name"] == "경제부"
    assert (await members(site, economy))[park.id] == "member"
    await leader.http.aclose()


async def test_a_member_gets_no_teams_page_and_no_writes(site: Site) -> None:
    intern = await sign_in(site, site.user("정인턴").email)
    digital = await team_id(site, SEOUL, "디지털뉴스부")
    page = await intern.http.get("/teams")
    assert page.status_code == 403 and "관리자와 팀 리더만 이 페이지를 열 수 있습니다." in page.text
    for url, data in (
        (f"/teams/{digital}/members", {"user_id": str(site.user("이기자").id)}),
        (f"/teams/{digital}/members/{site.user('김현우').id}/remove", {}),
        (f"/teams/{digital}", {"name": "인턴팀"}),
        ("/teams", {"name": "인턴팀"}),
    ):
        answer = await intern.htmx("POST", url, data=data)
        assert answer.status_code in (403, 404), url
    assert len(await members(site, digital)) == 2
    await intern.http.aclose()


async def test_in_a_browser_at_phone_width(site: Site, chromium: PlaywrightBrowser) -> None:
    digital = await team_id(site, SEOUL, "디지털뉴스부")
    page = await open_signed_in(chromium, site, width=360, height=740)
    await page.goto("/teams")
    await page.get_by_label("이름으로 검색").fill("디지털")
    await expect(page.get_by_test_id("team-row")).to_have_count(2)
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert not await serious_violations(page)

    await page.goto(f"/teams/{digital}")
    row = page.locator("[data-testid=member-row][data-member=김현우]")
    await row.get_by_text("관리").click()
    await row.get_by_role("button", name="팀에서 제외").click()
    dialog = page.get_by_role("dialog", name="김현우을(를) 디지털뉴스부에서 제외할까요?")
    await expect(dialog).to_be_visible()
    assert not await serious_violations(page)
    # no successor: refused, the dialog closes so the message can be read
    await dialog.get_by_role("button", name="제외", exact=True).click()
    await expect(page.locator("#flash .flash.error")).to_contain_text("마지막 리더입니다")
    await expect(dialog).to_be_hidden()
    await row.get_by_role("button", name="팀에서 제외").click()
    await dialog.get_by_label("후임 리더 (마지막 리더인 경우)").select_option(label="정인턴")
    await dialog.get_by_role("button", name="제외", exact=True).click()
    await expect(page.locator(".flash.success")).to_contain_text("이제 정인턴이(가) 팀을 이끕니다.")
    await expect(page.get_by_test_id("member-row")).to_have_count(1)
    await expect(page.get_by_test_id("role")).to_have_text("팀 리더")
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
