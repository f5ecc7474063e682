from __future__ import annotations

import logging

import httpx
import orjson
import pytest
import structlog
from sqlalchemy import func, select

from tests.catalog.conftest import Reader, audit_events
from tokengate.catalog.models import Model
from tokengate.mockprovider import RunningMock
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
DEPLOYMENT_FIELDS = {"upstream_model", "base_url", "api_key", "fallbacks", "routing"}


async def model_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Model)) or 0)


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

    async with runtime.sessions() as session:
        stored = await session.scalar(select(Model))
    assert stored is not None and stored.api_key_encrypted
    assert "sk-provider" not in stored.api_key_encrypted
    assert runtime.box.decrypt(stored.api_key_encrypted) == "sk-provider-secret-9876"
    assert stored.input_price == 150_000


async def test_registration_keeps_metadata_and_is_audited_without_the_key(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    body = {
        **MODEL,
        "version": "2025-06",
        "description": "칼럼 전용 모델",
        "default_max_tokens": 512,
        "max_tokens_cap": 4096,
        "params": {"temperature": {"default": 0.7, "min": 0, "max": 1}},
    }
    created = (await client.post("/api/v1/models", json=body, headers=admin_headers)).json()
    shown = (await client.get(f"/api/v1/models/{created['id']}", headers=admin_headers)).json()
    assert shown == created
    assert (shown["version"], shown["description"]) == ("2025-06", "칼럼 전용 모델")
    assert (shown["default_max_tokens"], shown["max_tokens_cap"]) == (512, 4096)
    assert shown["params"] == {"temperature": {"default": 0.7, "min": 0.0, "max": 1.0}}

    [event] = await audit_events(runtime)
    assert (event.action, event.target_id, event.actor, event.before) == (
        "model.create",
        str(created["id"]),
        "master-key",
        None,
    )
    assert event.after is not None and event.after["name"] == "C1"
    assert event.after["api_key"] == "[redacted]"
    assert "9876" not in orjson.dumps(event.after).decode()


async def test_duplicate_or_invalid_model_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    assert (
        await client.post("/api/v1/models", json=MODEL, headers=admin_headers)
    ).status_code == 201
    other = {**MODEL, "name": "C2", "upstream_model": "column-c2"}
    cases = [
        (MODEL, 409, "already registered"),
        ({**other, "name": "c1"}, 409, "already registered"),  # names ignore case
        ({**MODEL, "name": "C1-again"}, 409, "allow_alias"),  # same upstream, other name
        ({**MODEL, "name": "C1-again", "base_url": "http://127.0.0.1:9000/v1"}, 409, "C1"),
        ({**other, "base_url": "not a url"}, 422, "base_url"),
        ({**other, "base_url": "ftp://files.example.com"}, 422, "base_url"),
        ({**other, "provider": "skynet"}, 422, "provider"),
        ({**other, "input_price_per_mtok": -1}, 422, "input_price_per_mtok"),
        ({**other, "output_price_per_mtok": "abc"}, 422, "output_price_per_mtok"),
        ({**other, "name": "has space"}, 422, "name"),
        ({**other, "default_max_tokens": 9000, "max_tokens_cap": 100}, 400, "max_tokens_cap"),
        ({**other, "params": {"temperature": {"min": 1, "max": 0}}}, 422, "params"),
        ({**other, "surprise": True}, 422, "surprise"),
        ({**other, "max_tokens_cap": 2**40}, 422, "max_tokens_cap"),
        ({**other, "base_url": "http://h.example/" + "v" * 500}, 422, "base_url"),
        ({**other, "params": {"top_p": {"max": "inf"}}}, 422, "params"),
    ]
    for body, status, hint in cases:
        response = await client.post("/api/v1/models", json=body, headers=admin_headers)
        assert response.status_code == status, (body, response.text)
        assert hint in response.json()["error"]["message"], response.text
    assert await model_count(runtime) == 1
    assert [e.action for e in await audit_events(runtime)] == ["model.create"]

    alias = await client.post(
        "/api/v1/models",
        json={**MODEL, "name": "C1-alias", "allow_alias": True},
        headers=admin_headers,
    )
    assert alias.status_code == 201, alias.text


async def test_update_changes_upstream_key_prices_and_metadata(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    model = (await client.post("/api/v1/models", json=MODEL, headers=admin_headers)).json()
    path = f"/api/v1/models/{model['id']}"
    change = {
        "base_url": "http://10.0.0.7:8000/v1",
        "upstream_model": "column-c1-v2",
        "api_key": "sk-rotated-key-4321",
        "input_price_per_mtok": "0.2",
        "version": "v2",
        "description": "second version",
        "max_tokens_cap": 2048,
    }
    response = await client.patch(path, json=change, headers=admin_headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["api_key"] == "****4321"
    assert (updated["base_url"], updated["upstream_model"]) == (
        change["base_url"],
        "column-c1-v2",
    )
    assert (updated["input_price_per_mtok"], updated["output_price_per_mtok"]) == ("0.2", "0.6")
    assert (updated["version"], updated["description"], updated["max_tokens_cap"]) == (
        "v2",
        "second version",
        2048,
    )
    async with runtime.sessions() as session:
        stored = await session.get(Model, model["id"])
    assert stored is not None and stored.api_key_encrypted is not None
    assert runtime.box.decrypt(stored.api_key_encrypted) == "sk-rotated-key-4321"

    cleared = (
        await client.patch(path, json={"api_key": None, "version": None}, headers=admin_headers)
    ).json()
    assert (cleared["api_key"], cleared["version"], cleared["description"]) == (
        None,
        None,
        "second version",
    )
    [first, second] = await audit_events(runtime, "model.update")
    assert first.before is not None and first.after is not None
    assert (first.before["upstream_model"], first.after["upstream_model"]) == (
        "column-c1",
        "column-c1-v2",
    )
    assert first.after["api_key"] == "[redacted]"
    assert "4321" not in orjson.dumps([first.after, second.before]).decode()


async def test_a_refused_update_changes_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    model = (await client.post("/api/v1/models", json=MODEL, headers=admin_headers)).json()
    other = {**MODEL, "name": "C2", "upstream_model": "column-c2"}
    await client.post("/api/v1/models", json=other, headers=admin_headers)
    path = f"/api/v1/models/{model['id']}"
    cases = [
        ({"description": "x", "upstream_model": "column-c2"}, 409),  # C2's upstream
        ({"description": "x", "default_max_tokens": 5000, "max_tokens_cap": 10}, 400),
        ({"description": "x", "fallbacks": ["C1"]}, 400),  # itself
        ({"description": "x", "name": "C9"}, 422),  # names never change
        ({"description": "x", "status": "archived"}, 422),  # archived only by DELETE
        ({"input_price_per_mtok": "-0.1"}, 422),
    ]
    for body, status in cases:
        response = await client.patch(path, json=body, headers=admin_headers)
        assert response.status_code == status, (body, response.text)
    shown = (await client.get(path, headers=admin_headers)).json()
    assert shown == model
    assert await audit_events(runtime, "model.update") == []

    alias = {"upstream_model": "column-c2", "allow_alias": True}
    assert (await client.patch(path, json=alias, headers=admin_headers)).status_code == 200


async def test_readers_see_public_fields_and_only_system_admins_change_models(
    client: httpx.AsyncClient, admin_headers: dict[str, str], tenant_admin: Reader
) -> None:
    model = (await client.post("/api/v1/models", json=MODEL, headers=admin_headers)).json()
    path = f"/api/v1/models/{model['id']}"
    headers = tenant_admin.headers

    listed = await client.get("/api/v1/models", headers=headers)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    shown = (await client.get(path, headers=headers)).json()
    assert item == shown
    assert DEPLOYMENT_FIELDS.isdisjoint(shown)
    assert {k: model[k] for k in shown} == shown  # the same values, fewer of them
    assert "9876" not in listed.text

    writes = [
        ("POST", "/api/v1/models", {**MODEL, "name": "C5", "upstream_model": "x"}),
        (
            "POST",
            "/api/v1/models/test",
            {k: MODEL[k] for k in ("provider", "base_url", "upstream_model")},
        ),
        ("PATCH", path, {"description": "mine now"}),
        ("POST", f"{path}/deactivate", None),
        ("POST", f"{path}/activate", None),
        ("DELETE", path, None),
        ("POST", f"{path}/test", None),
        ("GET", f"{path}/deployments", None),
        ("POST", f"{path}/deployments", {"upstream_model": "y", "base_url": "http://h/v1"}),
    ]
    for method, url, body in writes:
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (method, url, response.text)
    assert (await client.get("/api/v1/models/999", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/models")).status_code == 401
    assert (await client.get(path, headers=admin_headers)).json() == model


async def test_list_searches_filters_sorts_and_pages(
    client: httpx.AsyncClient, admin_headers: dict[str, str], tenant_admin: Reader
) -> None:
    specs = [
        ("beta", "openai_compatible", "2024"),
        ("Alpha", "anthropic", "2025-06"),
        ("delta", "openai", None),
        ("gamma_x", "openai_compatible", "2025-01"),
    ]
    ids = {}
    for name, provider, version in specs:
        body = {**MODEL, "name": name, "provider": provider, "upstream_model": name}
        response = await client.post(
            "/api/v1/models", json={**body, "version": version}, headers=admin_headers
        )
        ids[name] = response.json()["id"]
    await client.post(f"/api/v1/models/{ids['delta']}/deactivate", headers=admin_headers)

    async def names(query: str, headers: dict[str, str] = admin_headers) -> list[str]:
        response = await client.get(f"/api/v1/models?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [m["name"] for m in response.json()["items"]]

    assert await names("") == ["beta", "Alpha", "delta", "gamma_x"]
    assert await names("sort=name") == ["Alpha", "beta", "delta", "gamma_x"]
    assert await names("sort=-name") == ["gamma_x", "delta", "beta", "Alpha"]
    assert await names("sort=-created_at") == ["gamma_x", "delta", "Alpha", "beta"]
    assert await names("search=2025") == ["Alpha", "gamma_x"]  # versions match too
    assert await names("search=A_X") == ["gamma_x"]  # no wildcard: '_' is a character
    assert await names("search=a_p") == []  # would match "Alpha" as a wildcard
    assert await names("search=a%25") == []
    assert await names("provider=openai_compatible") == ["beta", "gamma_x"]
    assert await names("status=inactive") == ["delta"]
    assert await names("status=active&sort=name", tenant_admin.headers) == [
        "Alpha",
        "beta",
        "gamma_x",
    ]

    seen: list[str] = []
    cursor = ""
    while True:
        page = (
            await client.get(
                f"/api/v1/models?sort=-name&limit=3&cursor={cursor}", headers=admin_headers
            )
        ).json()
        seen += [m["name"] for m in page["items"]]
        if page["next"] is None:
            break
        cursor = page["next"]
    assert seen == ["gamma_x", "delta", "beta", "Alpha"]
    first = (await client.get("/api/v1/models?sort=name&limit=2", headers=admin_headers)).json()
    other_sort = await client.get(
        f"/api/v1/models?sort=created_at&cursor={first['next']}", headers=admin_headers
    )
    assert other_sort.status_code == 400 and other_sort.json()["error"]["param"] == "cursor"
    bad = [("sort=price", "sort"), ("provider=skynet", "provider"), ("limit=0", "limit")]
    for query, param in bad:
        response = await client.get(f"/api/v1/models?{query}", headers=admin_headers)
        assert response.status_code in (400, 422) and param in response.text, response.text


async def test_provider_keys_never_reach_the_logs(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    upstream: RunningMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # no "sk-" prefix: the log scrubber's pattern must not be what keeps it out
    first, second = "prov-first-key-1f2e3d4c5b6a", "prov-second-key-a6b5c4d3e2f1"
    body = {**MODEL, "base_url": upstream.base_url, "api_key": first}
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        model = (await client.post("/api/v1/models", json=body, headers=admin_headers)).json()
        path = f"/api/v1/models/{model['id']}"
        await client.patch(path, json={"api_key": second}, headers=admin_headers)
        tested = await client.post(f"{path}/test", headers=admin_headers)
        probe = {k: body[k] for k in ("provider", "upstream_model", "base_url", "api_key")}
        await client.post("/api/v1/models/test", json=probe, headers=admin_headers)
        await client.post(
            "/api/v1/models/test",
            json={**probe, "base_url": "http://127.0.0.1:9/v1"},
            headers=admin_headers,
        )
    assert tested.json()["ok"] is True
    logged = orjson.dumps(events, default=str).decode() + caplog.text
    assert first not in logged and second not in logged
