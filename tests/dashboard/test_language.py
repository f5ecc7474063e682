"""The language: the account's, else the browser's, with a switch that the account keeps."""

from __future__ import annotations

import httpx

from tests.dashboard.conftest import PASSWORD, Site, sign_in
from tokengate.demo.run import DEMO_ADMIN


async def test_the_browser_language_applies_until_the_account_has_one(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.base) as browser:
        login = await browser.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
        assert '<html lang="en">' in login.text


async def test_the_switch_is_kept_on_the_account_for_every_device(site: Site) -> None:
    admin = await sign_in(site, lang="ko")
    assert "전체 현황" in (await admin.http.get("/")).text
    switched = await admin.post("/language", {"lang": "en", "next": "/"})
    assert (switched.status_code, switched.headers["location"]) == (303, "/")
    assert "tg_lang=en" in switched.headers["set-cookie"]
    assert "Overview" in (await admin.http.get("/")).text
    me = await admin.http.get("/api/v1/me", headers={"x-csrf-token": admin.csrf})
    assert me.json()["locale"] == "en"
    await admin.http.aclose()
    # another browser, no cookie, a Korean Accept-Language: the account's English wins
    async with httpx.AsyncClient(base_url=site.base) as other:
        form = await other.get("/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        await other.post(
            "/login",
            data={"email": DEMO_ADMIN, "password": PASSWORD, "csrf_token": token, "next": "/"},
        )
        page = await other.get("/", headers={"Accept-Language": "ko-KR"})
        assert '<html lang="en">' in page.text


async def test_an_unknown_language_or_a_missing_form_token_changes_nothing(site: Site) -> None:
    admin = await sign_in(site, lang="ko")
    wrong = await admin.post("/language", {"lang": "fr", "next": "/"})
    assert wrong.status_code == 400 and "올바르지 않은 값" in wrong.text
    forged = await admin.http.post("/language", data={"lang": "en", "csrf_token": "forged"})
    assert forged.status_code == 403 and "양식을 확인할 수 없습니다" in forged.text
    me = await admin.http.get("/api/v1/me")
    assert me.json()["locale"] is None
    await admin.http.aclose()


async def test_a_redirect_after_the_switch_stays_on_this_site(site: Site) -> None:
    browser = await sign_in(site)
    answer = await browser.post("/language", {"lang": "en", "next": "https://evil.example/"})
    assert answer.headers["location"] == "/"
    await browser.http.aclose()
