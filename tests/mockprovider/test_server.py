import asyncio
import socket
import sys

import aiohttp

from tokengate.mockprovider import MockConfig, running_mock_provider
from tokengate.mockprovider.state import get_state


async def test_running_mock_provider_serves_and_stops() -> None:
    async with running_mock_provider(MockConfig(completion_tokens=2)) as mock:
        assert mock.base_url == f"{mock.root_url}/v1"
        assert mock.root_url == f"http://127.0.0.1:{mock.port}"
        async with aiohttp.ClientSession() as session:
            body = {"model": "c1", "messages": [{"role": "user", "content": "hi"}]}
            async with session.post(f"{mock.base_url}/chat/completions", json=body) as response:
                assert (await response.json())["usage"]["completion_tokens"] == 2
        assert [request.path for request in mock.requests] == ["/v1/chat/completions"]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", mock.port)) != 0


async def test_exit_releases_hanging_requests() -> None:
    async with aiohttp.ClientSession() as session:
        async with running_mock_provider(MockConfig(hang=True)) as mock:
            url = f"{mock.base_url}/models"

            async def status() -> int:
                async with session.get(url) as response:
                    return response.status

            call = asyncio.create_task(status())
            for _ in range(200):
                if get_state(mock.app).hanging:
                    break
                await asyncio.sleep(0.005)
        assert await call == 503


async def test_module_entry_point_serves(unused_tcp_port: int) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tokengate.mockprovider",
        "--port",
        str(unused_tcp_port),
        "--completion-tokens",
        "3",
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"http://127.0.0.1:{unused_tcp_port}/_mock/config") as r:
                        assert (await r.json())["completion_tokens"] == 3
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the mock provider never came up")
    finally:
        process.terminate()
        await process.wait()
