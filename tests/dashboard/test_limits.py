"""한도 관리: limits set, edited and archived through the dashboard's forms, checked through the
admin API, the audit log and the ledger's counters; scoped by role."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.dashboard.conftest import Browser, Site, sign_in
from tokengate.dashboard.formats import percent


async def api(site: Site, method: str, path: str, **kw: Any) -> Any:
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as client:
        answer = await client.request(method, f"/api/v1{path}", **kw)
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None


async def team_id(site: Site, tenant: str, name: str) -> int:
    found = await api(site, "GET", "/teams", params={"tenant_id": site.tenant_id(tenant)})
    ident: int = next(t["id"] for t in found["items"] if t["name"] == name)
    return ident


async def limits_of(site: Site, tenant: str) -> list[dict[str, Any]]:
    found = await api(site, "GET", "/limits", params={"tenant_id": site.tenant_id(tenant)})
    items: list[dict[str, Any]] = found["items"]
    return items


def form(target: str, **changes: str) -> dict[str, str]:
    values = {
        "target": target,
        "metric": "tokens",
        "window": "month",
        "amount": "1000000",
        "mode": "block",
        "thresholds": "80, 90, 100",
        "priority_share": "0",
    }
    return {**values, **changes}


def row(html: str, limit_id: int) -> str:
    found = re.search(rf'<tr data-limit="{limit_id}">.*?</tr>', html, re.S)
    assert found is not None, f"no row for limit {limit_id}"
    return found[0]


async def test_a_limit_set_in_the_form_is_in_the_api_and_the_audit_log(
    site: Site, admin: Browser
) -> None:
    economy = await team_id(site, "서울경제신문", "경제부")
    answer = await admin.post("/limits", form(f"team:{economy}", thresholds="50 90 100"))
    assert answer.status_code == 201, answer.text
    assert "경제부의 한도가 설정되었습니다" in answer.text
    [limit] = await limits_of(site, "서울경제신문")
    assert (limit["scope"], limit["scope_id"], limit["metric"], limit["window"]) == (
        "team",
        economy,
        "tokens",
        "month",
    )
    assert (limit["amount"], limit["mode"], limit["thresholds"]) == (
        1_000_000,
        "block",
        [50, 90, 100],
    )
    log = await api(site, "GET", "/audit", params={"action": "limit.create"})
    assert [e["target_id"] for e in log["items"]] == [str(limit["id"])]

    shown = row(answer.text, limit["id"])
    assert "경제부" in shown and "서울경제신문" in shown and "1,000,000 토큰" in shown
    assert "차단" in shown and "50%" in shown and "월간" in shown
    # the counter is the ledger's: already-recorded usage of the month counts
    usage = await api(site, "GET", "/usage/current", params={"scope": "team", "id": economy})
    [counter] = [u for u in usage["items"] if u["limit_id"] == limit["id"]]
    assert counter["used"] > 0
    assert percent(counter["percent"], "ko") in shown


async def test_a_cost_limit_is_typed_in_money(site: Site, admin: Browser) -> None:
    user = site.user("정인턴")
    answer = await admin.htmx(
        "POST", "/limits", data=form(f"user:{user.id}", metric="cost", amount="12.5")
    )
    assert answer.status_code == 201, answer.text
    assert "<html" not in answer.text and 'id="limits-page"' in answer.text
    [limit] = await limits_of(site, "서울경제신문")
    assert (limit["metric"], limit["amount"]) == ("cost", 12_500_000)
    assert "US$12.50" in row(answer.text, limit["id"])


async def test_invalid_input_is_explained_and_nothing_is_created(
    site: Site, admin: Browser
) -> None:
    economy = await team_id(site, "서울경제신문", "경제부")
    target = f"team:{economy}"
    cases = [
        (form(target, amount="-1"), "한도량: 0 이상이어야 합니다"),
        (form(target, metric="bogus"), "지표: 선택할 수 있는 값이 아닙니다"),
        (form(target, thresholds="0, 2000"), "알림 임계값: 1에서 1000 사이의 백분율이어야 합니다"),
        (form(target, auto_block="1"), "자동 차단: 사용자와 API 키 한도에만 쓸 수 있습니다"),
        (form(target, amount="many"), "한도량: 숫자여야 합니다"),
    ]
    for body, message in cases:
        answer = await admin.htmx("POST", "/limits", data=body)
        assert answer.status_code == 400, answer.text
        assert message in answer.text and 'class="flash error"' in answer.text
    assert await limits_of(site, "서울경제신문") == []

    english = await sign_in(site, lang="en")
    answer = await english.htmx("POST", "/limits", data=form(target, amount="-5"))
    assert answer.status_code == 400 and "Amount: must be at least 0" in answer.text
    await english.http.aclose()


async def test_a_personal_limit_may_not_exceed_its_teams(site: Site, admin: Browser) -> None:
    economy = await team_id(site, "서울경제신문", "경제부")
    assert (await admin.post("/limits", form(f"team:{economy}"))).status_code == 201
    lee = site.user("이기자")
    over = await admin.htmx("POST", "/limits", data=form(f"user:{lee.id}", amount="2000000"))
    assert over.status_code == 400
    assert "개인 한도는 같은 지표·기간의 팀 한도를 넘을 수 없습니다" in over.text
    assert len(await limits_of(site, "서울경제신문")) == 1


async def test_lowering_a_team_limit_reports_the_clamped_personal_limits(
    site: Site, admin: Browser
) -> None:
    economy = await team_id(site, "서울경제신문", "경제부")
    team = await api(
        site,
        "POST",
        "/limits",
        json={
            "scope": "team",
            "scope_id": economy,
            "metric": "tokens",
            "window": "month",
            "amount": 1_000_000,
        },
    )
    lee = site.user("이기자")
    personal = await api(
        site,
        "POST",
        "/limits",
        json={
            "scope": "user",
            "scope_id": lee.id,
            "metric": "tokens",
            "window": "month",
            "amount": 800_000,
        },
    )
    page = await admin.http.get(f"/limits/{team['id']}")
    assert page.status_code == 200 and 'value="1000000"' in page.text

    answer = await admin.htmx(
        "POST",
        f"/limits/{team['id']}",
        data={
            "amount": "500000",
            "mode": "overage",
            "thresholds": "80, 90, 100",
            "priority_share": "0",
        },
    )
    assert answer.status_code == 200, answer.text
    clamped = answer.text[answer.text.index('data-testid="clamped"') :]
    assert "이기자: 800,000 토큰 → 500,000 토큰" in clamped
    assert (await api(site, "GET", f"/limits/{personal['id']}"))["amount"] == 500_000
    after = await api(site, "GET", f"/limits/{team['id']}")
    assert (after["amount"], after["mode"]) == (500_000, "overage")
    log = await api(site, "GET", "/audit", params={"action": "limit.update"})
    [event] = log["items"]
    assert event["before"]["amount"] == 1_000_000 and event["after"]["amount"] == 500_000


async def test_relaxations_and_exemptions_are_listed_and_created(
    site: Site, admin: Browser
) -> None:
    jung = site.user("정인턴")
    limit = await api(
        site,
        "POST",
        "/limits",
        json={
            "scope": "user",
            "scope_id": jung.id,
            "metric": "tokens",
            "window": "day",
            "amount": 50_000,
        },
    )
    answer = await admin.htmx(
        "POST",
        "/limits/relaxations",
        data={"limit_id": str(limit["id"]), "multiplier": "2", "start_hour": "22", "end_hour": "6"},
    )
    assert answer.status_code == 201, answer.text
    assert "완화 규칙이 저장되었습니다: 22:00 ~ 06:00 동안 ×2." in answer.text
    [rule] = (await api(site, "GET", "/relaxations"))["items"]
    assert (rule["limit_id"], rule["multiplier_percent"], rule["start_hour"], rule["end_hour"]) == (
        limit["id"],
        200,
        22,
        6,
    )
    same_hours = await admin.htmx(
        "POST",
        "/limits/relaxations",
        data={"limit_id": str(limit["id"]), "multiplier": "2", "start_hour": "5", "end_hour": "5"},
    )
    assert same_hours.status_code == 400 and "종료 시각과 달라야 합니다" in same_hours.text

    answer = await admin.post(
        "/limits/exemptions", {"target": f"user:{jung.id}", "metric": "tokens", "reason": "마감"}
    )
    assert (
        answer.status_code == 201
        and "정인턴은(는) 이제 토큰 한도로 차단되지 않습니다" in answer.text
    )
    [exemption] = (await api(site, "GET", "/exemptions"))["items"]
    assert (exemption["scope_id"], exemption["reason"]) == (jung.id, "마감")
    actions = {e["action"] for e in (await api(site, "GET", "/audit"))["items"]}
    assert {"relaxation.create", "exemption.create"} <= actions
    listed = (await admin.http.get("/limits")).text
    assert "×2" in listed and "마감" in listed

    detail = await admin.http.get(f"/limits/{limit['id']}")
    assert "22:00 ~ 06:00" in detail.text


async def test_archiving_a_limit(site: Site, admin: Browser) -> None:
    lee = site.user("이기자")
    limit = await api(
        site,
        "POST",
        "/limits",
        json={
            "scope": "user",
            "scope_id": lee.id,
            "metric": "requests",
            "window": "day",
            "amount": 100,
        },
    )
    answer = await admin.htmx("POST", f"/limits/{limit['id']}/archive")
    assert answer.status_code == 200 and "이기자의 한도가 보관되었습니다" in answer.text
    assert await limits_of(site, "서울경제신문") == []
    log = await api(site, "GET", "/audit", params={"action": "limit.archive"})
    assert [e["target_id"] for e in log["items"]] == [str(limit["id"])]


async def test_a_tenant_admin_sees_only_their_tenant_and_members_nothing(site: Site) -> None:
    lee = site.user("이기자")
    mine = await api(
        site,
        "POST",
        "/limits",
        json={
            "scope": "user",
            "scope_id": lee.id,
            "metric": "tokens",
            "window": "month",
            "amount": 10,
        },
    )
    other_team = await team_id(site, "조선일보", "경제부")
    theirs = await api(
        site,
        "POST",
        "/limits",
        json={
            "scope": "team",
            "scope_id": other_team,
            "metric": "tokens",
            "window": "month",
            "amount": 10,
        },
    )
    boss = await sign_in(site, site.user("김현우").email)
    page = await boss.http.get("/limits")
    assert page.status_code == 200
    assert (
        f'data-limit="{mine["id"]}"' in page.text
        and f'data-limit="{theirs["id"]}"' not in page.text
    )
    assert "조선일보" not in page.text
    assert (await boss.http.get(f"/limits/{theirs['id']}")).status_code == 404
    other = site.tenant_id("조선일보")
    assert (await boss.http.get("/limits", params={"tenant_id": other})).status_code == 404
    assert (await boss.post(f"/limits/{theirs['id']}", {"amount": "1"})).status_code == 404
    refused = await boss.post("/limits", form(f"team:{other_team}"))
    assert refused.status_code == 404
    # their own tenant: allowed, and it shows
    own_team = await team_id(site, "서울경제신문", "정치부")
    assert (await boss.post("/limits", form(f"team:{own_team}"))).status_code == 201
    await boss.http.aclose()
    assert (await api(site, "GET", f"/limits/{theirs['id']}"))["amount"] == 10

    member = await sign_in(site, lee.email)
    assert (await member.http.get("/limits")).status_code == 403
    assert (await member.http.get(f"/limits/{mine['id']}")).status_code == 403
    refused = await member.post("/limits", form(f"user:{lee.id}"))
    assert refused.status_code == 403 and "관리자와 팀 리더" in refused.text
    await member.http.aclose()
    assert len(await limits_of(site, "서울경제신문")) == 2


async def test_english_filters_and_fragments(site: Site) -> None:
    lee = site.user("이기자")
    await api(
        site,
        "POST",
        "/limits",
        json={
            "scope": "user",
            "scope_id": lee.id,
            "metric": "cost",
            "window": "week",
            "amount": 3_000_000,
            "mode": "alert_only",
        },
    )
    english = await sign_in(site, lang="en")
    html = (await english.http.get("/limits")).text
    assert '<html lang="en">' in html and "When exceeded" in html and "Set a limit" in html
    assert "Alert only" in html and "Weekly" in html and "$3.00" in html
    fragment = await english.http.get(
        "/limits",
        params={"metric": "tokens", "scope": "user"},
        headers={"HX-Request": "true", "HX-Target": "limit-rows"},
    )
    assert fragment.text.lstrip().startswith('<div id="limit-rows">')
    assert "No limit matches" in fragment.text
    # what the filter form sends with "all" chosen everywhere
    everything = await english.http.get(
        "/limits", params={"tenant_id": "", "scope": "", "metric": ""}
    )
    assert everything.status_code == 200 and "Alert only" in everything.text
    wrong = await english.http.get("/limits", params={"metric": "bananas"})
    assert wrong.status_code == 400 and "Metric: is not one of the choices" in wrong.text
    await english.http.aclose()


async def test_a_team_leader_sets_their_members_limits_but_not_the_teams(site: Site) -> None:
    politics = await team_id(site, "서울경제신문", "정치부")
    lee, park = site.user("이기자"), site.user("박기자")
    await api(site, "POST", f"/teams/{politics}/members", json={"user_id": lee.id})
    await api(site, "PATCH", f"/teams/{politics}/members/{park.id}", json={"role": "leader"})
    team = await api(
        site,
        "POST",
        "/limits",
        json={
            "scope": "team",
            "scope_id": politics,
            "metric": "tokens",
            "window": "day",
            "amount": 500,
        },
    )
    leader = await sign_in(site, park.email)
    page = await leader.http.get("/limits")
    assert page.status_code == 200
    shown = row(page.text, team["id"])
    assert "정치부" in shown and "/limits/" in shown and "편집" not in shown
    created = await leader.post("/limits", form(f"user:{lee.id}", amount="400", window="day"))
    assert created.status_code == 201, created.text
    assert (await leader.post("/limits", form(f"team:{politics}"))).status_code == 403
    edit = {"amount": "1", "mode": "block", "thresholds": "80", "priority_share": "0"}
    assert (await leader.post(f"/limits/{team['id']}", edit)).status_code == 403
    await leader.http.aclose()
    amounts = sorted(x["amount"] for x in await limits_of(site, "서울경제신문"))
    assert amounts == [400, 500]
