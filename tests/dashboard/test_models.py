"""모델 관리: the catalogue, registering (US-06), testing, switching off (US-07) and statistics,
checked through the admin API and the audit log."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from tests.auth.browser_support import free_port
from tests.dashboard.conftest import Browser, Site, sign_in

SECRET = "sk-dashboard-test-secret-0123456789"


def row(html: str, name: str) -> str:
    found = re.search(rf'<tr data-model="{name}">.*?</tr>', html, re.S)
    assert found is not None, f"no row for {name}"
    return found[0]


async def api(site: Site, path: str, **params: Any) -> Any:
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as client:
        answer = await client.get(f"/api/v1{path}", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


async def model_id(site: Site, name: str) -> int:
    found = await api(site, "/models", search=name, include_archived=True)
    ident: int = next(m["id"] for m in found["items"] if m["name"] == name)
    return ident


def register_form(site: Site, **changes: str) -> dict[str, str]:
    form = {
        "name": "C9",
        "provider": "openai_compatible",
        "upstream_model": "column-c1",
        "base_url": f"{site.base}/mock/v1",
        "api_key": SECRET,
        "input_price_per_mtok": "0.5",
        "output_price_per_mtok": "2",
        "default_max_tokens": "512",
        "max_tokens_cap": "4096",
        "param_temperature_default": "0.7",
        "param_temperature_max": "1.5",
        "allow_alias": "1",
    }
    return {**form, **changes}


async def test_the_catalogue_shows_prices_plans_and_deployments(site: Site, admin: Browser) -> None:
    page = await admin.http.get("/models")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="ko">' in html and "모델 관리" in html
    c1, c2 = row(html, "C1"), row(html, "C2")
    assert "활성" in c1 and "US$0.15" in c1 and "US$0.60" in c1
    for plan in ("Enterprise", "Pro", "Basic", "Free"):
        assert plan in c1
    assert "Enterprise" in c2 and "Pro" not in c2 and "US$4.00" in c2
    assert "연결 테스트" in c1 and "비활성화" in c1
    assert 'id="register-title"' in html and "<th scope=" in html

    english = await sign_in(site, lang="en")
    html = (await english.http.get("/models")).text
    assert '<html lang="en">' in html and "Register a model" in html
    assert "Active" in row(html, "C7") and "$3.00" in row(html, "C7")
    await english.http.aclose()


async def test_search_and_status_filter_the_rows(site: Site, admin: Browser) -> None:
    html = (await admin.http.get("/models", params={"search": "C7"})).text
    assert 'data-model="C7"' in html and 'data-model="C1"' not in html
    fragment = await admin.http.get(
        "/models",
        params={"status": "inactive"},
        headers={"HX-Request": "true", "HX-Target": "model-rows"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="model-rows">')
    assert "<html" not in fragment.text and 'class="empty"' in fragment.text
    wrong = await admin.http.get("/models", params={"status": "sleeping"})
    assert wrong.status_code == 400 and "상태" in wrong.text


async def test_registering_a_model_stores_it_audited_with_its_key_hidden(
    site: Site, admin: Browser
) -> None:
    answer = await admin.post("/models", register_form(site))
    assert answer.status_code == 201, answer.text
    assert "C9 모델이 등록되었습니다" in answer.text and 'data-model="C9"' in answer.text
    assert SECRET not in answer.text

    found = await api(site, "/models", search="C9")
    [model] = found["items"]
    assert model["base_url"] == f"{site.base}/mock/v1" and model["api_key"] == "****6789"
    assert model["input_price_per_mtok"] == "0.5" and model["max_tokens_cap"] == 4096
    assert model["params"]["temperature"] == {"default": 0.7, "min": None, "max": 1.5}
    log = await api(site, "/audit", action="model.create", target_id=str(model["id"]))
    [event] = log["items"]
    assert event["actor"] == "admin@tokengate.demo" or event["actor"]
    assert SECRET not in str(log)

    detail = await admin.http.get(f"/models/{model['id']}")
    assert detail.status_code == 200
    assert SECRET not in detail.text and "6789" not in detail.text
    assert "저장됨(암호화)" in detail.text

    again = await admin.htmx("POST", "/models", data=register_form(site))
    assert again.status_code == 409
    assert "같은 이름의 모델이 이미 등록되어 있습니다" in again.text and SECRET not in again.text
    assert len((await api(site, "/models", search="C9"))["items"]) == 1


async def test_invalid_input_is_explained_and_nothing_is_registered(
    site: Site, admin: Browser
) -> None:
    bad = register_form(
        site, name="C10", input_price_per_mtok="-1", base_url="not a url", provider="acme"
    )
    answer = await admin.htmx("POST", "/models", data=bad)
    assert answer.status_code == 400
    text = answer.text
    assert "입력 단위 가격" in text or "입력 가격" in text
    assert "0 이상이어야 합니다" in text and "올바른 URL이 아닙니다" in text
    assert "제공사" in text and SECRET not in text
    english = await sign_in(site, lang="en")
    answer = await english.htmx("POST", "/models", data=bad)
    assert "must be at least 0" in answer.text and "is not a valid URL" in answer.text
    await english.http.aclose()
    assert (await api(site, "/models", search="C10"))["items"] == []


async def test_connection_tests_report_success_and_a_dead_url_quickly(
    site: Site, admin: Browser
) -> None:
    c1 = await model_id(site, "C1")
    ok = await admin.htmx("POST", f"/models/{c1}/test")
    assert ok.status_code == 200 and 'data-ok="yes"' in ok.text
    assert "연결되었습니다" in ok.text and "column-c1" in ok.text and "<html" not in ok.text

    dead = f"http://127.0.0.1:{free_port()}/v1"
    started = time.monotonic()
    failed = await admin.htmx(
        "POST", "/models/test", data=register_form(site, name="C11", base_url=dead)
    )
    assert time.monotonic() - started < 5
    assert failed.status_code == 200 and 'data-ok="no"' in failed.text
    assert "연결에 실패했습니다" in failed.text and "127.0.0.1" in failed.text
    assert SECRET not in failed.text
    log = await api(site, "/audit", action="model.test")
    assert len(log["items"]) == 2 and SECRET not in str(log)
    assert (await api(site, "/models", search="C11"))["items"] == []

    plain = await admin.post(f"/models/{c1}/test")
    assert plain.status_code == 200 and "<html" in plain.text and "모델로 돌아가기" in plain.text


async def test_a_deactivated_model_is_refused_on_v1(site: Site, admin: Browser) -> None:
    c1 = await model_id(site, "C1")
    key = site.user("이기자").key
    body = {"model": "C1", "messages": [{"role": "user", "content": "안녕"}]}
    async with httpx.AsyncClient(base_url=site.base) as client:
        before = await client.post(
            "/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, json=body
        )
        assert before.status_code == 200, before.text

        answer = await admin.htmx("POST", f"/models/{c1}/deactivate", data={"from": "detail"})
        assert answer.status_code == 200
        assert "비활성" in answer.text and 'id="model-page"' in answer.text
        refused = await client.post(
            "/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, json=body
        )
        assert refused.status_code in (403, 404), refused.text
    assert (await api(site, f"/models/{c1}"))["status"] == "inactive"
    log = await api(site, "/audit", action="model.deactivate", target_id=str(c1))
    assert len(log["items"]) == 1

    again = await admin.post(f"/models/{c1}/activate", {"from": "list"})
    assert again.status_code == 200 and 'data-model="C1"' in again.text
    assert (await api(site, f"/models/{c1}"))["status"] == "active"


async def test_archiving_a_used_model_keeps_it_archived(site: Site, admin: Browser) -> None:
    c7 = await model_id(site, "C7")
    answer = await admin.htmx("POST", f"/models/{c7}/archive")
    assert answer.status_code == 200 and "C7 모델이 보관되었습니다" in answer.text
    assert (await api(site, f"/models/{c7}"))["status"] == "archived"
    listed = (await admin.http.get("/models")).text
    assert 'data-model="C7"' not in listed
    archived = (await admin.http.get("/models", params={"status": "archived"})).text
    assert 'data-model="C7"' in archived


async def test_statistics_match_the_api(site: Site, admin: Browser) -> None:
    c2 = await model_id(site, "C2")
    expected = await api(site, f"/models/{c2}/stats")
    assert expected["requests"] > 0
    english = await sign_in(site, lang="en")
    form = {"period": "all", "tenant_id": ""}
    html = (await english.http.get(f"/models/{c2}", params=form)).text
    assert f"{expected['requests']:,}" in stat(html, "requests")
    tokens = expected["input_tokens"] + expected["output_tokens"]
    assert f"{tokens:,}" in stat(html, "tokens")
    assert f"${expected['cost_micros'] / 1_000_000:,.2f}" in stat(html, "cost")
    assert f"{expected['p95_latency_ms']:,} ms" in stat(html, "p95")
    await english.http.aclose()

    boss = await sign_in(site, site.user("김현우").email)
    mine = await boss.http.get(f"/models/{c2}", params={"period": "all"})
    assert mine.status_code == 200
    assert "Base URL" not in mine.text and "기본 URL" not in mine.text
    tenant = site.tenant_id("서울경제신문")
    theirs = await api(site, f"/models/{c2}/stats", tenant_id=tenant)
    assert f"{theirs['requests']:,}" in stat(mine.text, "requests")
    await boss.http.aclose()


def stat(html: str, name: str) -> str:
    found = re.search(rf'data-stat="{name}">.*?<p class="value">([^<]+)</p>', html, re.S)
    assert found is not None, f"no {name} card"
    return found[1]


async def test_tenant_admins_read_and_members_cannot_change(site: Site) -> None:
    boss = await sign_in(site, site.user("김현우").email)
    page = await boss.http.get("/models")
    assert page.status_code == 200 and 'data-model="C1"' in page.text
    assert 'id="register-title"' not in page.text and "/mock/v1" not in page.text
    refused = await boss.post("/models", register_form(site, name="C12"))
    assert refused.status_code == 403
    await boss.http.aclose()

    member = await sign_in(site, site.user("이기자").email)
    c1 = await model_id(site, "C1")
    assert (await member.post(f"/models/{c1}/deactivate")).status_code == 403
    assert (await member.post(f"/models/{c1}/test")).status_code == 403
    await member.http.aclose()
    assert (await api(site, f"/models/{c1}"))["status"] == "active"
    assert (await api(site, "/models", search="C12"))["items"] == []


async def test_editing_a_model_keeps_its_key_unless_asked(site: Site, admin: Browser) -> None:
    assert (await admin.post("/models", register_form(site))).status_code == 201
    c9 = await model_id(site, "C9")
    edit = register_form(site, api_key="", input_price_per_mtok="0.75", description="칼럼 초안")
    edit.pop("name")
    answer = await admin.htmx("POST", f"/models/{c9}/edit", data=edit)
    assert answer.status_code == 200, answer.text
    assert "C9 모델이 저장되었습니다" in answer.text and 'id="model-page"' in answer.text
    model = await api(site, f"/models/{c9}")
    assert (model["input_price_per_mtok"], model["description"]) == ("0.75", "칼럼 초안")
    assert model["api_key"] == "****6789"
    log = await api(site, "/audit", action="model.update", target_id=str(c9))
    assert len(log["items"]) == 1 and SECRET not in str(log)

    answer = await admin.htmx("POST", f"/models/{c9}/edit", data={**edit, "remove_api_key": "1"})
    assert answer.status_code == 200
    assert (await api(site, f"/models/{c9}"))["api_key"] is None
    bad = await admin.htmx(
        "POST", f"/models/{c9}/edit", data={**edit, "default_max_tokens": "9000"}
    )
    assert (
        bad.status_code == 400 and "기본 최대 토큰은 최대 토큰 상한을 넘을 수 없습니다" in bad.text
    )
