"""전체 현황: the seed's step 2 on the demo data, scoped by role, and the live stream."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.dashboard.conftest import Browser, Site, sign_in


def card(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">.*?<p class="value">([^<]+)</p>', html, re.S)
    assert found is not None, f"no {testid} card"
    return found[1]


async def test_the_system_admin_sees_5_tenants_15_users_and_3_near_the_limit(
    site: Site, admin: Browser
) -> None:
    page = await admin.http.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="ko">' in html
    assert (card(html, "tenants"), card(html, "users"), card(html, "near-limit")) == (
        "5",
        "15",
        "3",
    )
    near = html[html.index('id="near-title"') : html.index('id="live-title"')]
    for name, percent in (("정인턴", "95%"), ("데모관리자", "95%"), ("박기자", "80%")):
        assert name in near and percent in near
    assert "이기자" not in near


async def test_a_tenant_admin_sees_only_their_tenant(site: Site) -> None:
    boss = await sign_in(site, site.user("김현우").email)
    html = (await boss.http.get("/")).text
    assert (card(html, "tenants"), card(html, "users"), card(html, "near-limit")) == ("1", "5", "2")
    assert "데모관리자" not in html
    await boss.http.aclose()


async def test_a_member_sees_themself(site: Site) -> None:
    intern = await sign_in(site, site.user("정인턴").email, lang="en")
    html = (await intern.http.get("/")).text
    assert '<html lang="en">' in html and "Users near their limit" in html
    assert (card(html, "users"), card(html, "near-limit")) == ("1", "1")
    assert "박기자" not in html
    await intern.http.aclose()


async def test_htmx_gets_the_fragment_only(site: Site, admin: Browser) -> None:
    fragment = await admin.htmx("GET", "/")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'data-testid="tenants"' in fragment.text


async def test_signed_out_visitors_go_to_the_login(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.base) as anonymous:
        page = await anonymous.get("/?x=1")
        assert (page.status_code, page.headers["location"]) == (303, "/login?next=/%3Fx%3D1")
        fragment = await anonymous.get("/", headers={"HX-Request": "true"})
        assert fragment.headers["HX-Redirect"] == "/login?next=/"


async def test_the_live_stream_sends_new_requests(site: Site, admin: Browser) -> None:
    key = site.user("이기자").key
    async with admin.http.stream("GET", "/live") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        assert await anext(lines) == "retry: 5000"
        async with httpx.AsyncClient(base_url=site.base) as client:
            answer = await client.post(
                "/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={"model": "C1", "messages": [{"role": "user", "content": "안녕"}]},
            )
            assert answer.status_code == 200, answer.text

        async def next_event() -> str:
            async for line in lines:
                if line.startswith("data: "):
                    return line
            raise AssertionError("the stream ended")

        data = await asyncio.wait_for(next_event(), timeout=15)
        assert "이기자" in data and "C1" in data


async def test_the_back_button_after_htmx_gets_the_whole_page(site: Site, admin: Browser) -> None:
    restore = await admin.http.get(
        "/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.text and 'id="nav"' in restore.text
