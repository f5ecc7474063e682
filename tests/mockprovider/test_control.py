import aiohttp
import pytest

from tokengate.mockprovider import MockConfig, RunningMock

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_config_round_trip(mock: RunningMock, http: aiohttp.ClientSession) -> None:
    async with http.get("/_mock/config") as response:
        assert await response.json() == MockConfig().model_dump()
    async with http.put("/_mock/config", json={"fail_status": 503, "latency_ms": 1}) as response:
        assert response.status == 200
        updated = await response.json()
    assert updated["fail_status"] == 503
    assert updated["completion_tokens"] == 40
    assert mock.app.state.mock.config == MockConfig(fail_status=503, latency_ms=1)
    async with http.post("/v1/chat/completions", json={}) as response:
        assert response.status == 503
    async with http.put("/_mock/config", json={"fail_status": None}) as response:
        assert (await response.json())["latency_ms"] == 1
    async with http.get("/_mock/config") as response:
        assert (await response.json())["fail_status"] is None


@pytest.mark.parametrize(
    "data",
    [b'{"no_such_knob": 1}', b'{"chunk_tokens": 0}', b'{"hang": "maybe"}', b"[]", b"{oops"],
)
async def test_bad_config_is_400(
    mock: RunningMock, http: aiohttp.ClientSession, data: bytes
) -> None:
    async with http.put("/_mock/config", data=data) as response:
        assert response.status == 400
        assert (await response.json())["error"]["message"]
    assert mock.app.state.mock.config == MockConfig()


async def test_requests_listing_and_clearing(
    mock: RunningMock, http: aiohttp.ClientSession
) -> None:
    body = {"model": "e", "input": "hello"}
    async with http.post("/v1/embeddings", json=body, headers={"X-Trace": "t1"}) as response:
        assert response.status == 200
    async with http.get("/_mock/requests") as response:
        (recorded,) = await response.json()
    assert recorded["method"] == "POST"
    assert recorded["path"] == "/v1/embeddings"
    assert recorded["body"] == body
    assert recorded["headers"]["x-trace"] == "t1"
    async with http.delete("/_mock/requests") as response:
        assert response.status == 204
    assert mock.requests == []
