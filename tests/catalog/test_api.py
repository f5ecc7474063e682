from __future__ import annotations

import httpx

from tokengate.runtime import Runtime

MODEL = {
    "name": "C1",
    "provider": "openai_compatible",
    "upstream_model": "column-c1",
    "base_url": "http://127.0.0.1:9000/v1/",
    "api_key": "sk-provider-secret-9876",
    "input_price_per_mtok": "0.15",
    "output_price_per_mtok": 0.6,
}


async def test_model_key_is_encrypted_and_masked(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    response = await client.post("/api/v1/models", json=MODEL, headers=admin_headers)
    assert response.status_code == 201, response.text
    model = response.json()
    assert model["api_key"] == "****9876"
    assert model["base_url"] == "http://127.0.0.1:9000/v1"
    assert (model["input_price_per_mtok"], model["output_price_per_mtok"]) == ("0.15", "0.6")
    assert model["cached_input_price_per_mtok"] == "0.15"
    assert model["cache_write_price_per_mtok"] == "0.15"  # defaults to the input price
    listed = (await client.get("/api/v1/models", headers=admin_headers)).json()
    assert listed["items"] == [model]
    assert "sk-provider-secret-9876" not in str(listed)

    from sqlalchemy import select

    from tokengate.catalog.models import Model

    async with runtime.sessions() as session:
        stored = await session.scalar(select(Model))
    assert stored is not None and stored.api_key_encrypted
    assert "sk-provider" not in stored.api_key_encrypted
    assert runtime.box.decrypt(stored.api_key_encrypted) == "sk-provider-secret-9876"
    assert stored.input_price == 150_000


async def test_duplicate_or_invalid_model_is_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert (
        await client.post("/api/v1/models", json=MODEL, headers=admin_headers)
    ).status_code == 201
    cases = [
        (MODEL, 409),
        ({**MODEL, "name": "C2", "base_url": "not a url"}, 422),
        ({**MODEL, "name": "C2", "provider": "skynet"}, 422),
        ({**MODEL, "name": "C2", "input_price_per_mtok": -1}, 422),
        ({**MODEL, "name": "has space"}, 422),
    ]
    for body, status in cases:
        response = await client.post("/api/v1/models", json=body, headers=admin_headers)
        assert response.status_code == status, response.text
    assert len((await client.get("/api/v1/models", headers=admin_headers)).json()["items"]) == 1
