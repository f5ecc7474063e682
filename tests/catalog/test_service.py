from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from sqlalchemy import func, select

from tests.catalog.conftest import audit_events
from tests.factories import Member, bearer, make_member, make_model, make_plan
from tokengate.mockprovider import RunningMock
from tokengate.runtime import Runtime
from tokengate.usage.models import UsageEvent

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "한 문장으로 요약해 주세요."}
]


@pytest.fixture
async def gateway(gateway_url: str, member: Member) -> AsyncIterator[openai.AsyncOpenAI]:
    """The OpenAI SDK, as the member's application would call the gateway."""
    async with openai.AsyncOpenAI(
        base_url=f"{gateway_url}/v1",
        api_key=member.key,
        max_retries=0,
        default_headers={"Accept-Language": "en"},
    ) as sdk:
        yield sdk


async def usage_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(UsageEvent)) or 0)


async def test_a_deactivated_model_is_refused_on_v1_until_activated_again(
    client: httpx.AsyncClient,
    gateway: openai.AsyncOpenAI,
    admin_headers: dict[str, str],
    runtime: Runtime,
) -> None:
    [model] = (await client.get("/api/v1/models", headers=admin_headers)).json()["items"]
    path = f"/api/v1/models/{model['id']}"
    assert (await gateway.chat.completions.create(model="C1", messages=MESSAGES)).choices

    off = await client.post(f"{path}/deactivate", headers=admin_headers)
    assert (off.status_code, off.json()["status"]) == (200, "inactive")
    with pytest.raises(openai.NotFoundError) as refused:
        await gateway.chat.completions.create(model="C1", messages=MESSAGES)
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["code"] == "model_not_found" and error["type"] == "invalid_request_error"
    assert "C1" in error["message"] and "not active" in error["message"]
    assert [m.id async for m in gateway.models.list()] == []

    on = await client.post(f"{path}/activate", headers=admin_headers)
    assert (on.status_code, on.json()["status"]) == (200, "active")
    assert (await gateway.chat.completions.create(model="C1", messages=MESSAGES)).choices
    assert [m.id async for m in gateway.models.list()] == ["C1"]
    assert [e.action for e in await audit_events(runtime)] == [
        "model.deactivate",
        "model.activate",
    ]
    [deactivated, _] = await audit_events(runtime)
    assert deactivated.before is not None and deactivated.after is not None
    assert (deactivated.before["status"], deactivated.after["status"]) == ("active", "inactive")


async def test_a_model_nothing_refers_to_is_deleted(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    model = await make_model(runtime, base_url="http://127.0.0.1:9/v1", name="C8")
    await client.post(
        f"/api/v1/models/{model.id}/deployments",
        json={"upstream_model": "c8-b", "base_url": "http://127.0.0.1:10/v1"},
        headers=admin_headers,
    )
    response = await client.delete(f"/api/v1/models/{model.id}", headers=admin_headers)
    assert (response.status_code, response.content) == (204, b"")
    assert (
        await client.get(f"/api/v1/models/{model.id}", headers=admin_headers)
    ).status_code == 404
    listed = (
        await client.get("/api/v1/models?include_archived=true", headers=admin_headers)
    ).json()
    assert listed["items"] == []
    [event] = await audit_events(runtime, "model.delete")
    assert event.before is not None and event.before["name"] == "C8" and event.after is None
    # the name is free again
    assert (await make_model(runtime, base_url="http://127.0.0.1:9/v1", name="C8")).name == "C8"


async def test_a_model_with_usage_is_archived_and_its_history_kept(
    client: httpx.AsyncClient,
    gateway: openai.AsyncOpenAI,
    admin_headers: dict[str, str],
    runtime: Runtime,
) -> None:
    await gateway.chat.completions.create(model="C1", messages=MESSAGES)
    [model] = (await client.get("/api/v1/models", headers=admin_headers)).json()["items"]
    path = f"/api/v1/models/{model['id']}"

    response = await client.delete(path, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {**model, "status": "archived"}
    assert await usage_count(runtime) == 1
    assert (await client.get("/api/v1/models", headers=admin_headers)).json()["items"] == []
    for query in ("include_archived=true", "status=archived"):
        shown = (await client.get(f"/api/v1/models?{query}", headers=admin_headers)).json()
        assert [m["status"] for m in shown["items"]] == ["archived"]
    with pytest.raises(openai.NotFoundError):
        await gateway.chat.completions.create(model="C1", messages=MESSAGES)
    again = await client.post(
        "/api/v1/models",
        json={
            "name": "c1",
            "provider": "openai_compatible",
            "upstream_model": "other",
            "base_url": "http://127.0.0.1:9/v1",
            "input_price_per_mtok": "1",
            "output_price_per_mtok": "1",
        },
        headers=admin_headers,
    )
    assert again.status_code == 409 and "archived" in again.json()["error"]["message"]
    assert [e.action for e in await audit_events(runtime)] == ["model.archive"]

    assert (await client.post(f"{path}/activate", headers=admin_headers)).status_code == 200
    assert (await gateway.chat.completions.create(model="C1", messages=MESSAGES)).choices


async def test_a_model_named_by_a_plan_or_a_fallback_is_archived(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    url = "http://127.0.0.1:9/v1"
    planned = await make_model(runtime, base_url=url, name="P1", upstream_model="p1")
    fallback = await make_model(
        runtime, base_url=url, name="F1", upstream_model="f1", input_price_per_mtok="0.1"
    )
    main = await make_model(runtime, base_url=url, name="M1", upstream_model="m1")
    await make_plan(runtime, allowed_models=["P1"])
    changed = await client.patch(
        f"/api/v1/models/{main.id}", json={"fallbacks": ["F1"]}, headers=admin_headers
    )
    assert changed.status_code == 200, changed.text

    for model in (planned, fallback):
        response = await client.delete(f"/api/v1/models/{model.id}", headers=admin_headers)
        assert (response.status_code, response.json()["status"]) == (200, "archived")
    # an archived model is no fallback
    refused = await client.patch(
        f"/api/v1/models/{main.id}", json={"fallbacks": ["F1"]}, headers=admin_headers
    )
    assert refused.status_code == 400
    deleted = await client.delete(f"/api/v1/models/{main.id}", headers=admin_headers)
    assert deleted.status_code == 204


async def test_a_price_change_may_not_make_a_fallback_dearer(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    url = "http://127.0.0.1:9/v1"
    main = await make_model(runtime, base_url=url, name="M1", upstream_model="m1")
    lite = await make_model(
        runtime, base_url=url, name="L1", upstream_model="l1", input_price_per_mtok="0.1"
    )
    await client.patch(
        f"/api/v1/models/{main.id}", json={"fallbacks": ["L1"]}, headers=admin_headers
    )
    dearer = await client.patch(
        f"/api/v1/models/{lite.id}", json={"input_price_per_mtok": "5"}, headers=admin_headers
    )
    assert dearer.status_code == 400 and "M1" in dearer.json()["error"]["message"]
    cheaper = await client.patch(
        f"/api/v1/models/{main.id}", json={"input_price_per_mtok": "0.05"}, headers=admin_headers
    )
    assert cheaper.status_code == 400 and "L1" in cheaper.json()["error"]["message"]
    shown = (await client.get(f"/api/v1/models/{lite.id}", headers=admin_headers)).json()
    assert shown["input_price_per_mtok"] == "0.1"


async def test_deployments_are_not_duplicated_and_are_audited(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    main = await make_model(runtime, base_url="http://127.0.0.1:9/v1")
    await make_model(runtime, base_url="http://127.0.0.1:9/v1", name="C2", upstream_model="c2")
    path = f"/api/v1/models/{main.id}/deployments"
    second = {"upstream_model": "column-c1", "base_url": "http://127.0.0.1:10/v1"}
    assert (await client.post(path, json=second, headers=admin_headers)).status_code == 201
    cases = [
        ({"upstream_model": "column-c1", "base_url": "http://127.0.0.1:9/v1/"}, 409),  # primary
        (second, 409),
        ({"upstream_model": "c2", "base_url": "http://127.0.0.1:9/v1"}, 409),  # C2's
        ({"upstream_model": "c2", "base_url": "http://127.0.0.1:9/v1", "weight": 0}, 422),
    ]
    for body, status in cases:
        response = await client.post(path, json=body, headers=admin_headers)
        assert response.status_code == status, (body, response.text)
    alias = {"upstream_model": "c2", "base_url": "http://127.0.0.1:9/v1", "allow_alias": True}
    assert (await client.post(path, json=alias, headers=admin_headers)).status_code == 201
    events = await audit_events(runtime, "model.deployment.create")
    assert [(e.target_id, e.after and e.after["upstream_model"]) for e in events] == [
        (str(main.id), "column-c1"),
        (str(main.id), "c2"),
    ]
    listed = (await client.get(path, headers=admin_headers)).json()["items"]
    assert [d["primary"] for d in listed] == [True, False, False]


async def test_every_signed_in_user_reads_the_whole_catalogue(
    client: httpx.AsyncClient, runtime: Runtime, upstream: RunningMock
) -> None:
    await make_model(runtime, base_url=upstream.base_url, name="C9", upstream_model="c9")
    member = await make_member(runtime, allowed_models=["C1"])
    listed = await client.get("/api/v1/models", headers=bearer(runtime, member.user))
    assert [m["name"] for m in listed.json()["items"]] == ["C9"]
