"""Tenant e-mail domains over the admin API: only system administrators map them."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.factories import audit_actions, make_account, make_tenant_with_plan
from tests.factories import bearer
from tokengate.auth.domains import domain_of_email, normalize_domain
from tokengate.runtime import Runtime


def _path(tenant_id: int) -> str:
    return f"/api/v1/tenants/{tenant_id}/domains"


async def test_a_system_administrator_maps_a_domain_and_it_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    tenant = await make_tenant_with_plan(runtime)

    created = await client.post(
        _path(tenant.id),
        json={"domain": " Newsroom.Example. ", "roles": ["member", "team_leader"]},
        headers=admin_headers,
    )
    listed = await client.get(_path(tenant.id), headers=admin_headers)

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["domain"], body["tenant_id"], body["roles"]) == (
        "newsroom.example",
        tenant.id,
        ["team_leader"],
    )
    assert [d["domain"] for d in listed.json()] == ["newsroom.example"]
    assert await audit_actions(runtime, target_id="newsroom.example") == ["tenant_domain.create"]


async def test_a_domain_belongs_to_one_tenant_only(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    first = await make_tenant_with_plan(runtime)
    second = await make_tenant_with_plan(runtime)
    assert (
        await client.post(_path(first.id), json={"domain": "shared.example"}, headers=admin_headers)
    ).status_code == 201

    again = await client.post(
        _path(second.id), json={"domain": "SHARED.example"}, headers=admin_headers
    )

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    "domain", ["localhost", "not a domain", "-bad.example", "a..example", "10.0.0.1", "x@y.example"]
)
async def test_a_malformed_domain_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str], domain: str
) -> None:
    tenant = await make_tenant_with_plan(runtime)

    response = await client.post(_path(tenant.id), json={"domain": domain}, headers=admin_headers)

    assert response.status_code == 422
    assert "domain" in response.json()["error"]["message"]


async def test_system_admin_is_not_a_role_a_domain_can_give(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    tenant = await make_tenant_with_plan(runtime)

    response = await client.post(
        _path(tenant.id),
        json={"domain": "corp.example", "roles": ["system_admin"]},
        headers=admin_headers,
    )

    assert response.status_code == 422


async def test_a_tenant_admin_reads_their_domains_but_cannot_claim_one(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    admin = await make_account(runtime, roles=["tenant_admin"])
    other = await make_account(runtime, roles=["tenant_admin"])
    member = await make_account(runtime, tenant=admin.tenant)
    await client.post(_path(admin.tenant.id), json={"domain": "own.example"}, headers=admin_headers)

    claim = await client.post(
        _path(admin.tenant.id), json={"domain": "grab.example"}, headers=bearer(runtime, admin.user)
    )
    remove = await client.delete(
        f"{_path(admin.tenant.id)}/own.example", headers=bearer(runtime, admin.user)
    )
    own = await client.get(_path(admin.tenant.id), headers=bearer(runtime, admin.user))
    foreign = await client.get(_path(admin.tenant.id), headers=bearer(runtime, other.user))
    by_member = await client.get(_path(admin.tenant.id), headers=bearer(runtime, member.user))

    assert claim.status_code == 403
    assert remove.status_code == 403
    assert [d["domain"] for d in own.json()] == ["own.example"]
    assert foreign.status_code == 404
    assert by_member.status_code == 403


async def test_unmapping_a_domain_is_audited_and_unknown_ones_are_404(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    tenant = await make_tenant_with_plan(runtime)
    other = await make_tenant_with_plan(runtime)
    await client.post(_path(tenant.id), json={"domain": "gone.example"}, headers=admin_headers)

    wrong_tenant = await client.delete(f"{_path(other.id)}/gone.example", headers=admin_headers)
    removed = await client.delete(f"{_path(tenant.id)}/Gone.Example", headers=admin_headers)
    twice = await client.delete(f"{_path(tenant.id)}/gone.example", headers=admin_headers)

    assert wrong_tenant.status_code == 404
    assert removed.status_code == 204
    assert twice.status_code == 404
    assert (await client.get(_path(tenant.id), headers=admin_headers)).json() == []
    assert await audit_actions(runtime, target_id="gone.example") == [
        "tenant_domain.create",
        "tenant_domain.delete",
    ]


async def test_an_unknown_tenant_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(_path(9999), json={"domain": "x.example"}, headers=admin_headers)

    assert response.status_code == 404


def test_domains_are_compared_in_their_ascii_form() -> None:
    assert normalize_domain("Bücher.Example") == "xn--bcher-kva.example"
    assert domain_of_email("someone@BÜCHER.example") == "xn--bcher-kva.example"
    assert domain_of_email("no-at-sign") is None
