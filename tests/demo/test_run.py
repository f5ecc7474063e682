"""The demo end to end: the seed's data, served with the mock provider mounted in-process."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import run_sync
from tests.serving import serve_app
from tokengate.demo.run import build_demo_app, demo_settings, prepare_demo, render_banner
from tokengate.migrate import upgrade_database


async def test_demo_serves_the_seed_to_the_openai_sdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKENGATE_MASTER_KEY", raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    settings = demo_settings(host="127.0.0.1", port=None).model_copy(update={"database_url": url})
    assert settings.demo and settings.master_key is not None and settings.demo_password is not None
    run_sync(lambda: upgrade_database(url))

    async with serve_app(build_demo_app(settings)) as base:
        summary = await prepare_demo(settings, mock_base_url=f"{base}/mock/v1")
        banner = render_banner(settings, summary, base)
        assert settings.master_key.get_secret_value() in banner and "admin@tokengate.demo" in banner
        by_name = {u.name: u for u in summary.users}
        intern, free_admin = by_name["정인턴"], by_name["데모관리자"]

        sdk = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key=intern.key, max_retries=0)
        completion = await sdk.chat.completions.create(
            model="C1", messages=[{"role": "user", "content": "금리 칼럼 한 단락"}]
        )
        stream = await sdk.chat.completions.create(
            model="C7", messages=[{"role": "user", "content": "반도체 칼럼"}], stream=True
        )
        streamed = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        await sdk.close()
        assert completion.choices[0].message.content and streamed
        assert any("\uac00" <= ch <= "\ud7a3" for ch in streamed), "the demo engines write Korean"

        free = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key=free_admin.key, max_retries=0)
        with pytest.raises(openai.PermissionDeniedError) as refused:
            await free.chat.completions.create(
                model="C2", messages=[{"role": "user", "content": "x"}]
            )
        await free.close()
        assert refused.value.code == "model_not_allowed" and "Free" in refused.value.message

        async with httpx.AsyncClient(base_url=base) as http:
            usage = await http.get(
                "/api/v1/usage",
                params={"user_id": intern.id, "limit": 2},
                headers={"Authorization": f"Bearer {settings.master_key.get_secret_value()}"},
            )
        # the history is all in the past: the two newest events are the two calls above
        streamed_event, plain_event = usage.json()["items"]
        assert (plain_event["model"], plain_event["stream"]) == ("C1", False)
        assert (streamed_event["model"], streamed_event["stream"]) == ("C7", True)
        assert completion.usage is not None
        assert plain_event["output_tokens"] == completion.usage.completion_tokens
        for event in (plain_event, streamed_event):
            assert event["status"] == "ok" and not event["estimated"]
            assert event["input_tokens"] > 0 and event["cost_micros"] > 0
