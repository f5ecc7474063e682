"""내 사용량, 내 API 키, 보안: a member's own usage, keys and second factor, for themself only."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import httpx
import pyotp

from tests.dashboard.conftest import PASSWORD, Browser, Site, sign_in
from tokengate.dashboard.formats import percent


def attr(page: str, element_id: str, name: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*?\s{name}="([^"]*)"', page, re.S)
    assert found is not None, f"no {name} on #{element_id}"
    return html.unescape(found[1])


async def api(site: Site, method: str, path: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=site.base, headers=site.master, timeout=30) as client:
        return await client.request(method, path, **kw)


async def plan_usage(site: Site, user_id: int) -> dict[str, Any]:
    answer = await api(
        site, "GET", "/api/v1/usage/current", params={"scope": "user", "id": user_id}
    )
    assert answer.status_code == 200, answer.text
    item: dict[str, Any] = next(i for i in answer.json()["items"] if i["source"] == "plan")
    return item


async def audited(site: Site, action: str, target_id: int) -> list[dict[str, Any]]:
    answer = await api(
        site, "GET", "/api/v1/audit", params={"action": action, "target_id": str(target_id)}
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_my_usage_shows_the_ledgers_numbers(site: Site) -> None:
    user = site.user("이기자")
    me = await sign_in(site, user.email, lang="ko")
    page = await me.http.get("/me/usage")
    assert page.status_code == 200
    text = page.text
    ledger = await plan_usage(site, user.id)
    assert int(attr(text, "allowance", "data-amount")) == ledger["amount"] == 10_000_000
    assert int(attr(text, "allowance", "data-used")) == ledger["used"]
    assert int(attr(text, "allowance", "data-reserved")) == ledger["reserved"]
    remaining = ledger["amount"] - ledger["used"] - ledger["reserved"]
    assert int(attr(text, "allowance", "data-remaining")) == remaining
    shown = round(ledger["used"] * 100 / ledger["amount"], 1)
    assert float(attr(text, "allowance", "data-percent")) == shown
    assert f"{ledger['used']:,}" in text and f"{remaining:,}" in text
    assert percent(shown, "ko") in text and "월 한도" in text and "초기화 시각" in text
    engines = text[text.index('data-testid="engines"') : text.index("</dd>", text.index("engines"))]
    assert re.findall(r">(C\d)<", engines) == ["C1", "C2", "C7"]
    assert "Enterprise" in text
    assert "/static/vendor/echarts/echarts.min.js" in text and "langKO.js" in text
    series = attr(text, "usage-chart", "data-series")
    assert '"tokens":[' in series and "최근 30일 일별 토큰 사용량" in text
    assert 'id="recent-requests"' in text
    await me.http.aclose()


async def test_my_other_limits_are_the_ledgers_user_limits(site: Site) -> None:
    user = site.user("데모기자")
    limit = {"scope": "user", "scope_id": user.id, "metric": "requests", "window": "day"}
    created = await api(site, "POST", "/api/v1/limits", json={**limit, "amount": 40})
    assert created.status_code == 201, created.text
    me = await sign_in(site, user.email, lang="ko")
    page = (await me.http.get("/me/usage")).text
    limits = page[page.index('id="limits"') : page.index("</table>", page.index('id="limits"'))]
    assert "요청 수 (일별)" in limits and ">40<" in limits
    await me.http.aclose()


async def test_a_member_only_ever_sees_their_own_numbers(site: Site) -> None:
    intern, other = site.user("정인턴"), site.user("이기자")
    me = await sign_in(site, intern.email, lang="en")
    page = await me.http.get("/me/usage", params={"user_id": other.id})
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "My usage" in page.text and "Monthly allowance" in page.text
    assert "Tokens per day, last 30 days" in page.text
    ledger = await plan_usage(site, intern.id)
    assert int(attr(page.text, "allowance", "data-used")) == ledger["used"]
    assert ledger["used"] != (await plan_usage(site, other.id))["used"]
    keys = await me.http.get("/me/keys", params={"user_id": other.id})
    own = await api(site, "GET", "/api/v1/keys", params={"user_id": intern.id})
    theirs = await api(site, "GET", "/api/v1/keys", params={"user_id": other.id})
    assert all(k["prefix"] in keys.text for k in own.json()["items"])
    assert not any(k["prefix"] in keys.text for k in theirs.json()["items"])
    await me.http.aclose()


async def test_without_a_tenant_there_is_no_allowance_and_no_usage(
    site: Site, admin: Browser
) -> None:
    page = await admin.http.get("/me/usage")
    assert page.status_code == 200
    assert "월 한도가 없습니다" in page.text and "최근 30일 동안 사용 내역이 없습니다." in page.text


async def test_a_new_key_is_shown_once_works_and_stops_when_revoked(site: Site) -> None:
    user = site.user("데모기자")
    me = await sign_in(site, user.email, lang="ko")
    form = await me.http.get("/me/keys")
    team = re.search(r'<option value="(\d+)">디지털뉴스부</option>', form.text)
    assert team is not None, "the member's team is offered"
    created = await me.htmx("POST", "/me/keys", data={"name": "초안 도구", "team_id": team[1]})
    assert created.status_code == 201, created.text
    secret = attr(created.text, "new-key-secret", "value")
    key_id = int(attr(created.text, "new-key", "data-key-id"))
    assert secret.startswith("tg-") and "이번 한 번만 표시됩니다" in created.text
    again = await me.http.get("/me/keys")
    assert secret not in again.text and "초안 도구" in again.text and "디지털뉴스부" in again.text
    stored = (await api(site, "GET", f"/api/v1/keys/{key_id}")).json()
    assert (stored["user_id"], stored["team_id"], stored["status"]) == (
        user.id,
        int(team[1]),
        "active",
    )
    [record] = await audited(site, "key.create", key_id)
    assert record["actor"] == user.email

    chat = {"model": "C1", "messages": [{"role": "user", "content": "안녕하세요"}]}
    bearer = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=site.base, timeout=30) as client:
        works = await client.post("/v1/chat/completions", headers=bearer, json=chat)
        assert works.status_code == 200, works.text
        revoked = await me.htmx("POST", f"/me/keys/{key_id}/revoke")
        assert revoked.status_code == 200
        assert "폐기했습니다" in revoked.text and 'data-status="revoked"' in revoked.text
        refused = await client.post("/v1/chat/completions", headers=bearer, json=chat)
        assert refused.status_code == 401
    assert len(await audited(site, "key.revoke", key_id)) == 1
    await me.http.aclose()


async def test_a_past_expiry_is_refused_and_nothing_is_created(site: Site) -> None:
    user = site.user("데모기자")
    me = await sign_in(site, user.email, lang="en")
    before = (await api(site, "GET", "/api/v1/keys", params={"user_id": user.id})).json()
    answer = await me.htmx("POST", "/me/keys", data={"name": "old", "expires_on": "2020-01-01"})
    assert answer.status_code == 400 and "The expiry date is in the past." in answer.text
    after = (await api(site, "GET", "/api/v1/keys", params={"user_id": user.id})).json()
    assert after["items"] == before["items"]
    await me.http.aclose()


async def test_nobody_revokes_someone_elses_key_here(site: Site) -> None:
    theirs = await api(site, "GET", "/api/v1/keys", params={"user_id": site.user("이기자").id})
    key_id = theirs.json()["items"][0]["id"]
    for name in ("정인턴", "김현우"):  # a member, and the tenant's admin (who has the admin pages)
        someone = await sign_in(site, site.user(name).email)
        refused = await someone.htmx("POST", f"/me/keys/{key_id}/revoke")
        assert refused.status_code == 404
        await someone.http.aclose()
    assert (await api(site, "GET", f"/api/v1/keys/{key_id}")).json()["status"] == "active"


async def test_a_blocked_user_still_sees_their_keys(site: Site) -> None:
    user = site.user("데모기자")
    me = await sign_in(site, user.email)
    blocked = await api(site, "POST", f"/api/v1/users/{user.id}/block", json={"reason": "test"})
    assert blocked.status_code == 200
    page = await me.http.get("/me/keys")
    assert page.status_code == 200 and user.key[:10] in page.text
    await me.http.aclose()


async def test_two_step_verification_on_codes_once_and_off(site: Site) -> None:
    user = site.user("데모기자")
    me = await sign_in(site, user.email, lang="ko")
    assert attr((await me.http.get("/me/security")).text, "mfa", "data-mfa") == "off"
    enrol = await me.htmx("POST", "/me/security/mfa/enrol")
    assert enrol.status_code == 200 and "<svg" in enrol.text
    found = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', enrol.text)
    assert found is not None
    totp = pyotp.TOTP(found[1])

    wrong = await me.htmx("POST", "/me/security/mfa/confirm", data={"code": "000000"})
    assert wrong.status_code == 400 and "코드가 올바르지 않거나" in wrong.text
    assert attr((await me.http.get("/me/security")).text, "mfa", "data-mfa") == "off"

    confirmed = await me.htmx("POST", "/me/security/mfa/confirm", data={"code": totp.now()})
    assert confirmed.status_code == 200, confirmed.text
    codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", confirmed.text)
    assert len(codes) == 10 and "2단계 인증이 켜졌습니다." in confirmed.text
    later = (await me.http.get("/me/security")).text
    assert attr(later, "mfa", "data-mfa") == "on" and not any(c in later for c in codes)
    assert len(await audited(site, "user.mfa_confirm", user.id)) == 1

    step_after = totp.at(time.time() + 30)  # the code of now was used: the next step's
    renewed = await me.htmx("POST", "/me/security/mfa/recovery-codes", data={"code": step_after})
    fresh = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", renewed.text)
    assert renewed.status_code == 200 and len(fresh) == 10 and not set(fresh) & set(codes)

    off = await me.htmx("POST", "/me/security/mfa/disable", data={"code": codes[0]})
    assert off.status_code == 400, "the old recovery codes no longer work"
    off = await me.htmx("POST", "/me/security/mfa/disable", data={"code": fresh[0]})
    assert off.status_code == 200 and "2단계 인증이 꺼졌습니다." in off.text
    assert attr(off.text, "mfa", "data-mfa") == "off"
    assert len(await audited(site, "user.mfa_disable", user.id)) == 1
    await me.http.aclose()


async def test_mfa_cannot_be_turned_off_where_the_tenant_requires_it(site: Site) -> None:
    user = site.user("데모기자")
    me = await sign_in(site, user.email, lang="en")
    enrol = await me.htmx("POST", "/me/security/mfa/enrol")
    found = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', enrol.text)
    assert found is not None
    totp = pyotp.TOTP(found[1])
    confirmed = await me.htmx("POST", "/me/security/mfa/confirm", data={"code": totp.now()})
    assert confirmed.status_code == 200
    policy = await api(
        site,
        "PUT",
        f"/api/v1/tenants/{site.tenant_id('데모신문사')}/mfa-policy",
        json={"required_for": ["all"]},
    )
    assert policy.status_code == 200, policy.text
    page = (await me.http.get("/me/security")).text
    assert 'id="mfa-disable-refused"' in page and "/me/security/mfa/disable" not in page
    refused = await me.htmx(
        "POST", "/me/security/mfa/disable", data={"code": totp.at(time.time() + 30)}
    )
    assert refused.status_code == 403 and "requires two-step verification" in refused.text
    assert attr((await me.http.get("/me/security")).text, "mfa", "data-mfa") == "on"
    await me.http.aclose()


async def token_for(site: Site, email: str, password: str) -> int:
    async with httpx.AsyncClient(base_url=site.base, timeout=30) as client:
        answer = await client.post(
            "/api/v1/auth/token", json={"email": email, "password": password}
        )
        return answer.status_code


async def test_a_wrong_current_password_changes_nothing(site: Site) -> None:
    user = site.user("데모기자")
    me = await sign_in(site, user.email, lang="ko")
    new = "a-brand-new-password-1"
    fields = {"current_password": "not-my-password", "new_password": new, "confirm_password": new}
    wrong = await me.htmx("POST", "/me/security/password", data=fields)
    assert wrong.status_code == 400 and "현재 비밀번호가 올바르지 않습니다." in wrong.text
    differ = {"current_password": PASSWORD, "new_password": new, "confirm_password": new + "x"}
    mismatch = await me.htmx("POST", "/me/security/password", data=differ)
    assert mismatch.status_code == 400 and "서로 다릅니다" in mismatch.text
    short = {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"}
    weak = await me.htmx("POST", "/me/security/password", data=short)
    assert weak.status_code == 400 and "12자 이상" in weak.text
    assert await token_for(site, user.email, PASSWORD) == 200
    assert await token_for(site, user.email, new) == 401
    assert (await me.http.get("/me/security")).status_code == 200, "still signed in"
    await me.http.aclose()


async def test_a_password_change_keeps_this_browser_signed_in(site: Site) -> None:
    user = site.user("데모기자")
    me = await sign_in(site, user.email, lang="en")
    new = "a-brand-new-password-1"
    fields = {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    changed = await me.htmx("POST", "/me/security/password", data=fields)
    assert changed.status_code == 200 and changed.headers["HX-Redirect"] == (
        "/me/security?changed=password"
    )
    page = await me.http.get(changed.headers["HX-Redirect"])
    assert page.status_code == 200 and "Your password was changed." in page.text
    assert await token_for(site, user.email, PASSWORD) == 401
    assert await token_for(site, user.email, new) == 200
    assert len(await audited(site, "user.password_change", user.id)) == 1
    await me.http.aclose()
