"""A provider dies in the middle of a load run: requests fail over, the breaker opens, and
closes again once the provider is back; no request hangs."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import httpx

from tests.factories import make_member, make_model
from tests.proxy.test_failover import deploy
from tests.serving import serve_app
from tokengate.mockprovider import MockConfig, create_mock_app, running_mock_provider, set_config
from tokengate.routing import BreakerConfig
from tokengate.runtime import Runtime
from tokengate.upstreams import Upstreams

BODY = {"model": "C1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
FAST_BREAKER = BreakerConfig(failure_threshold=3, cooldown=0.5, max_cooldown=1.0)


async def load(
    http: aiohttp.ClientSession, url: str, key: str, *, count: int, concurrency: int
) -> list[tuple[int, float]]:
    """Send ``count`` requests (every other one streamed), ``concurrency`` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> tuple[int, float]:
        async with gate:
            started = time.perf_counter()
            async with http.post(
                f"{url}/v1/chat/completions",
                json={**BODY, "stream": n % 2 == 1},
                headers={"Authorization": f"Bearer {key}"},
            ) as response:
                body = await response.read()
                ok = response.status == 200 and (n % 2 == 0 or body.endswith(b"[DONE]\n\n"))
                return (response.status if ok else -1), time.perf_counter() - started

    return await asyncio.gather(*(one(n) for n in range(count)))


async def circuit(client: httpx.AsyncClient, admin: dict[str, str], model_id: int) -> str:
    listed = await client.get(f"/api/v1/models/{model_id}/deployments", headers=admin)
    return str(listed.json()["items"][0]["circuit"])


async def test_a_provider_killed_mid_load(
    gateway_url: str, client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    # every state the breakers pass through: reading the state once after the outage races the
    # cool-down (on a loaded machine it may already be half-open)
    transitions: list[str] = []
    runtime.routing = Upstreams(
        breaker=FAST_BREAKER, on_change=lambda deployment, state: transitions.append(state)
    )
    primary_app = create_mock_app()
    # slow enough that the kill lands while requests are in flight
    set_config(primary_app, MockConfig(tokens_per_second=200))
    primary = serve_app(primary_app, lifespan="off")
    async with (
        running_mock_provider() as backup,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
    ):
        primary_url = await primary.__aenter__()
        port = int(primary_url.rsplit(":", 1)[1])
        model = await make_model(runtime, base_url=f"{primary_url}/v1")
        member = await make_member(runtime)
        await deploy(client, admin_headers, model.id, backup.base_url)

        running = asyncio.create_task(load(http, gateway_url, member.key, count=80, concurrency=8))
        await asyncio.sleep(0.3)
        await primary.__aexit__(None, None, None)  # the provider dies mid-run
        during = await running
        assert "open" in transitions
        assert await circuit(client, admin_headers, model.id) in ("open", "half_open")

        # it comes back at the same address; after the cool-down a probe closes the breaker
        async with serve_app(create_mock_app(), lifespan="off", port=port):
            await asyncio.sleep(FAST_BREAKER.cooldown + 0.3)
            after = await load(http, gateway_url, member.key, count=10, concurrency=1)
            state = await circuit(client, admin_headers, model.id)

    statuses = [status for status, _ in during + after]
    assert statuses.count(200) == len(statuses), statuses
    assert max(elapsed for _, elapsed in during + after) < runtime.settings.upstream_total_timeout
    assert state == "closed"
