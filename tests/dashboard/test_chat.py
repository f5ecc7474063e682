"""채팅: a member talks to the engines of their plan through the gateway's own /v1 path."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import httpx
import orjson

from tests.dashboard.conftest import Browser, Site, sign_in

BLOCKED_KO = "더 이상 채팅을 사용할 수 없습니다. 관리자에게 문의해주세요."
BLOCKED_EN = "You can no longer use chat. Please contact your administrator."


async def api(site: Site, method: str, path: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=site.base, headers=site.master, timeout=30) as client:
        return await client.request(method, path, **kw)


async def plan_usage(site: Site, user_id: int) -> dict[str, Any]:
    answer = await api(
        site, "GET", "/api/v1/usage/current", params={"scope": "user", "id": user_id}
    )
    item: dict[str, Any] = next(i for i in answer.json()["items"] if i["source"] == "plan")
    return item


async def newest_usage(site: Site, user_id: int) -> list[dict[str, Any]]:
    answer = await api(site, "GET", "/api/v1/usage", params={"user_id": user_id, "limit": 5})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def recorded(site: Site, user_id: int, after: str | None) -> dict[str, Any]:
    """The user's newest usage event once it is newer than ``after`` (a request id)."""
    for _ in range(100):
        items = await newest_usage(site, user_id)
        if items and items[0]["request_id"] != after:
            return items[0]
        await asyncio.sleep(0.1)
    raise AssertionError("no new usage event")


def options(page: str) -> list[str]:
    select = page[page.index('id="chat-model"') : page.index("</select>")]
    return re.findall(r'<option value="([^"]+)"', select)


def conversation(text: str = "경제 칼럼 초안을 써 줘") -> dict[str, Any]:
    return {"model": "C1", "messages": [{"role": "user", "content": text}]}


async def send(browser: Browser, body: dict[str, Any]) -> httpx.Response:
    return await browser.http.post("/chat/send", json=body, headers={"x-csrf-token": browser.csrf})


async def test_the_model_list_is_the_plans(site: Site) -> None:
    for name, models in (("데모기자", ["C1"]), ("이기자", ["C1", "C2", "C7"])):
        member = await sign_in(site, site.user(name).email)
        page = await member.http.get("/chat")
        assert page.status_code == 200
        assert options(page.text) == models
        assert 'id="chat-log"' in page.text and 'aria-live="polite"' in page.text
        assert '<label for="chat-model">' in page.text and '<label for="chat-message">' in page.text
        await member.http.aclose()


async def test_an_answer_streams_and_is_charged_to_the_user(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.base) as mock:
        paced = {"tokens_per_second": 4000, "completion_tokens": 2000, "chunk_tokens": 20}
        assert (await mock.put("/mock/_mock/config", json=paced)).status_code == 200
    user = site.user("데모기자")
    member = await sign_in(site, user.email, lang="ko")
    before = await plan_usage(site, user.id)
    last = await newest_usage(site, user.id)
    chunks: list[bytes] = []
    async with member.http.stream(
        "POST", "/chat/send", json=conversation(), headers={"x-csrf-token": member.csrf}
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        chunks = [chunk async for chunk in stream.aiter_raw()]
    assert len(chunks) > 3, "the answer arrives in pieces, as it is written"
    events = b"".join(chunks).decode().split("\n\n")
    data = [e.removeprefix("data: ") for e in events if e.startswith("data: ")]
    assert data[-1] == "[DONE]"
    payloads = [orjson.loads(d) for d in data[:-1]]
    answer = "".join(
        c["delta"].get("content") or "" for p in payloads for c in p.get("choices", [])
    )
    usage = next(p["usage"] for p in payloads if p.get("usage"))
    assert answer and usage["completion_tokens"] == 2000

    event = await recorded(site, user.id, last[0]["request_id"] if last else None)
    assert (event["model"], event["status"], event["stream"]) == ("C1", "ok", True)
    assert event["input_tokens"] == usage["prompt_tokens"]
    assert event["output_tokens"] == usage["completion_tokens"]
    assert event["cost_micros"] > 0
    key = (await api(site, "GET", f"/api/v1/keys/{event['key_id']}")).json()
    assert (key["user_id"], key["name"]) == (user.id, "dashboard chat")
    audit = await api(
        site, "GET", "/api/v1/audit", params={"action": "key.create", "target_id": event["key_id"]}
    )
    assert [a["actor"] for a in audit.json()["items"]] == [user.email]

    after = await plan_usage(site, user.id)
    assert after["used"] == before["used"] + usage["total_tokens"]
    assert after["percent"] > before["percent"] + 1
    fragment = await member.htmx("GET", "/chat/allowance")
    assert "<html" not in fragment.text
    found = re.search(
        r'data-used="(\d+)" data-remaining="(\d+)" data-percent="([\d.]+)"', fragment.text
    )
    assert found is not None and int(found[1]) == after["used"]
    assert float(found[3]) == round(after["used"] * 100 / after["amount"], 1)

    keys = await member.http.get("/me/keys")
    assert "채팅 화면용" in keys.text, "the chat key is one of the member's keys"
    await member.http.aclose()


async def test_the_second_message_reuses_the_chat_key(site: Site) -> None:
    user = site.user("이기자")
    member = await sign_in(site, user.email)
    for text in ("첫 질문", "두 번째 질문"):
        answer = await send(member, conversation(text))
        assert answer.status_code == 200 and answer.text.endswith("data: [DONE]\n\n")
    listed = await api(site, "GET", "/api/v1/keys", params={"user_id": user.id})
    assert [k["name"] for k in listed.json()["items"]].count("dashboard chat") == 1
    await member.http.aclose()


async def test_a_blocked_user_gets_the_gateways_message(site: Site) -> None:
    user = site.user("데모기자")
    member = await sign_in(site, user.email, lang="ko")
    blocked = await api(site, "POST", f"/api/v1/users/{user.id}/block", json={"reason": "데모"})
    assert blocked.status_code == 200, blocked.text
    page = await member.http.get("/chat")
    assert BLOCKED_KO in html.unescape(page.text)
    last = await newest_usage(site, user.id)
    refused = await send(member, conversation())
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == BLOCKED_KO
    event = await recorded(site, user.id, last[0]["request_id"] if last else None)
    assert (event["status"], event["error_code"]) == ("rejected", "user_blocked")

    english = await sign_in(site, site.user("이기자").email, lang="en")
    await api(site, "POST", f"/api/v1/users/{site.user('이기자').id}/block", json={})
    refused = await send(english, conversation())
    assert refused.status_code == 403 and refused.json()["error"]["message"] == BLOCKED_EN
    await member.http.aclose()
    await english.http.aclose()


async def test_at_100_percent_the_quota_message_says_plan_limit_and_usage(site: Site) -> None:
    user = site.user("데모관리자")
    used = (await plan_usage(site, user.id))["used"]
    plans = (await api(site, "GET", "/api/v1/plans")).json()["items"]
    free = next(p for p in plans if p["name"] == "Free")
    changed = await api(
        site, "PATCH", f"/api/v1/plans/{free['id']}", json={"monthly_token_limit": used}
    )
    assert changed.status_code == 200, changed.text
    assert (await plan_usage(site, user.id))["percent"] == 100
    member = await sign_in(site, user.email, lang="ko")
    refused = await send(member, conversation())
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert "이번 달 사용 한도를 초과하셨습니다" in message
    assert "현재 플랜: Free" in message and f"월 한도: {used:,} 토큰" in message
    assert f"사용량: {used:,} 토큰 (100%)" in message
    await member.http.aclose()


async def test_a_forged_or_missing_form_token_is_refused(site: Site) -> None:
    user = site.user("데모기자")
    member = await sign_in(site, user.email)
    before = await newest_usage(site, user.id)
    for headers in ({}, {"x-csrf-token": "forged"}):
        refused = await member.http.post("/chat/send", json=conversation(), headers=headers)
        assert refused.status_code == 403
        assert "양식을 확인할 수 없습니다" in refused.text
    await asyncio.sleep(0.3)
    assert await newest_usage(site, user.id) == before
    listed = await api(site, "GET", "/api/v1/keys", params={"user_id": user.id})
    assert "dashboard chat" not in [k["name"] for k in listed.json()["items"]]
    await member.http.aclose()


async def test_a_model_outside_the_plan_is_refused_by_the_gateway(site: Site) -> None:
    member = await sign_in(site, site.user("데모기자").email, lang="en")
    refused = await send(member, {**conversation(), "model": "C7"})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Your plan (Free) does not allow the model C7."
    await member.http.aclose()


async def test_english_page(site: Site) -> None:
    member = await sign_in(site, site.user("이기자").email, lang="en")
    page = await member.http.get("/chat")
    assert '<html lang="en">' in page.text
    for words in ("Chat", "Message", "Send", "New conversation", "tokens left"):
        assert words in page.text
    korean = await sign_in(site, site.user("이기자").email, lang="ko")
    page = await korean.http.get("/chat")
    for words in ("채팅", "메시지", "보내기", "새 대화", "토큰 남음"):
        assert words in page.text
    await member.http.aclose()
    await korean.http.aclose()
