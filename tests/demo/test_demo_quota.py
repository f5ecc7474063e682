"""Seed step 5 on the demo data: 정인턴 at 95 % spends the rest of the month, is refused with the
seed's message, and an administrator's grant lets them continue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_sync
from tests.serving import serve_app
from tokengate.db import utcnow
from tokengate.demo.run import build_demo_app, demo_settings, prepare_demo
from tokengate.demo.schemas import DemoSummary
from tokengate.migrate import upgrade_database

MONTHLY = 10_000_000  # Enterprise


@pytest.fixture
async def demo(
    tmp_path: Path,
) -> AsyncIterator[tuple[httpx.AsyncClient, DemoSummary, dict[str, str]]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    settings = demo_settings(host="127.0.0.1", port=None).model_copy(update={"database_url": url})
    run_sync(lambda: upgrade_database(url))
    assert settings.master_key is not None
    admin = {"Authorization": f"Bearer {settings.master_key.get_secret_value()}"}
    async with serve_app(build_demo_app(settings)) as base:
        summary = await prepare_demo(settings, mock_base_url=f"{base}/mock/v1")
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            yield http, summary, admin


async def test_intern_spends_the_month_is_refused_then_a_grant_reopens(
    demo: tuple[httpx.AsyncClient, DemoSummary, dict[str, str]],
) -> None:
    http, summary, admin = demo
    intern = next(u for u in summary.users if u.name == "정인턴")
    usage = await http.get(
        "/api/v1/usage/current", params={"scope": "user", "id": intern.id}, headers=admin
    )
    [allowance] = usage.json()["items"]
    # the ledger starts from the demo's history: exactly 95 % of the Enterprise allowance
    assert (allowance["amount"], allowance["used"], allowance["percent"]) == (
        MONTHLY,
        9_500_000,
        95.0,
    )

    # long columns: the mock writes as many tokens as max_tokens allows
    await http.put("/mock/_mock/config", json={"completion_tokens": 200_000})
    body = {
        "model": "C1",
        "messages": [{"role": "user", "content": "긴 칼럼"}],
        "max_tokens": 200_000,
    }
    headers = {"Authorization": f"Bearer {intern.key}"}
    statuses = [
        (await http.post("/v1/chat/completions", json=body, headers=headers)).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 403, 403]

    refused = await http.post("/v1/chat/completions", json=body, headers=headers)
    message = refused.json()["error"]["message"]
    [allowance] = (
        await http.get(
            "/api/v1/usage/current", params={"scope": "user", "id": intern.id}, headers=admin
        )
    ).json()["items"]
    assert allowance["used"] <= MONTHLY
    assert "이번 달 사용 한도를 초과하셨습니다" in message and "관리자에게 문의해주세요" in message
    assert "현재 플랜: Enterprise" in message and "월 한도: 10,000,000 토큰" in message
    assert f"사용량: {allowance['used']:,} 토큰 ({allowance['used'] * 100 // MONTHLY}%)" in message

    grant = {
        "user_id": intern.id,
        "amount": 1_000_000,
        "expires_at": (utcnow() + timedelta(days=7)).isoformat(),
    }
    assert (await http.post("/api/v1/grants", json=grant, headers=admin)).status_code == 201
    assert (await http.post("/v1/chat/completions", json=body, headers=headers)).status_code == 200

    reconciled = await http.get(
        "/api/v1/usage/current", params={"scope": "user", "id": intern.id}, headers=admin
    )
    assert reconciled.json()["items"][0]["reserved"] == 0
