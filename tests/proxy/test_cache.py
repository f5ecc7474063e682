"""The hot path reads configuration from memory, and forgets it when the configuration changes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from tests.factories import Member
from tokengate.app import create_app
from tokengate.config_epoch import EPOCH_POLL_SECONDS
from tokengate.db import transaction
from tokengate.runtime import Runtime
from tokengate.settings import Settings
from tokengate.tenancy import service as tenancy

BODY = {"model": "C1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
CONFIG_TABLES = ("api_keys", "users", "tenants", "plans", "models", "limits", "team_memberships")


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)


async def test_warm_requests_read_no_configuration_table(
    client: httpx.AsyncClient, member: Member, runtime: Runtime
) -> None:
    headers = {"Authorization": f"Bearer {member.key}"}
    # let the epoch watcher see the set-up's changes once, then warm the cache
    await asyncio.sleep(EPOCH_POLL_SECONDS * 1.5)
    assert (
        await client.post("/v1/chat/completions", json=BODY, headers=headers)
    ).status_code == 200
    with statements(runtime) as seen:
        for _ in range(3):
            assert (
                await client.post("/v1/chat/completions", json=BODY, headers=headers)
            ).status_code == 200
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in reads if any(f"FROM {t}" in s for t in CONFIG_TABLES)], reads


async def test_a_block_in_another_process_applies_within_a_second(
    client: httpx.AsyncClient, member: Member, settings: Settings
) -> None:
    headers = {"Authorization": f"Bearer {member.key}"}
    assert (
        await client.post("/v1/chat/completions", json=BODY, headers=headers)
    ).status_code == 200
    # a second app on the same database stands for another gateway process
    other = create_app(settings)
    async with (
        other.router.lifespan_context(other),
        transaction(other.state.runtime.sessions) as session,
    ):
        await tenancy.set_user_blocked(session=session, user_id=member.user.id, blocked=True)
    for _ in range(20):
        response = await client.post("/v1/chat/completions", json=BODY, headers=headers)
        if response.status_code == 403:
            break
        await asyncio.sleep(0.1)
    assert response.json()["error"]["code"] == "user_blocked"


async def test_with_redis_a_change_is_announced_at_once(
    member: Member, settings: Settings, app: FastAPI
) -> None:
    redis_url = os.environ.get("TOKENGATE_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TOKENGATE_TEST_REDIS_URL is not set")
    # the epoch poll is made too slow to matter: only the announcement can empty the cache
    slow = settings.model_copy(update={"redis_url": redis_url, "config_poll_interval": 60.0})
    gateway, admin = create_app(slow), create_app(slow)
    headers = {"Authorization": f"Bearer {member.key}"}
    async with gateway.router.lifespan_context(gateway), admin.router.lifespan_context(admin):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await asyncio.sleep(0.2)  # the first poll ran; the subscription is up
            assert (
                await client.post("/v1/chat/completions", json=BODY, headers=headers)
            ).status_code == 200
            async with transaction(admin.state.runtime.sessions) as session:
                await tenancy.set_user_blocked(
                    session=session, user_id=member.user.id, blocked=True
                )
            for _ in range(20):
                response = await client.post("/v1/chat/completions", json=BODY, headers=headers)
                if response.status_code == 403:
                    break
                await asyncio.sleep(0.05)
    assert response.json()["error"]["code"] == "user_blocked"
