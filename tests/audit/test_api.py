"""The audit log: every admin write recorded once, readable and exportable by admins only."""

from __future__ import annotations

import csv
import io

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.factories import Member, bearer, make_member, make_user
from tokengate.audit import service as audit
from tokengate.auth.principal import Principal
from tokengate.db import transaction
from tokengate.runtime import Runtime


async def _events(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str | int
) -> list[dict[str, object]]:
    response = await client.get("/api/v1/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_a_write_is_recorded_with_actor_target_before_after_and_address(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    issued = await client.post(
        "/api/v1/keys", json={"user_id": member.user.id, "name": "laptop"}, headers=admin_headers
    )
    key_id = issued.json()["id"]
    await client.post(
        f"/api/v1/keys/{key_id}/block", json={"reason": "lost"}, headers=admin_headers
    )

    block, create = await _events(client, admin_headers, target_type="key")
    assert create["action"] == "key.create" and block["action"] == "key.block"
    assert create["actor"] == "master-key" and create["actor_user_id"] is None
    assert create["tenant_id"] == member.tenant.id
    assert create["target_id"] == str(key_id)
    assert create["before"] is None and create["after"]["name"] == "laptop"  # type: ignore[index]
    assert block["before"]["status"] == "active"  # type: ignore[index]
    assert block["after"]["status"] == "blocked"  # type: ignore[index]
    assert block["ip"] == "127.0.0.1"
    # the key's plaintext is in the answer, never in the log
    assert issued.json()["key"] not in orjson.dumps(create).decode()


async def test_a_refused_write_leaves_no_record(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    for body in ({"user_id": 424242}, {"user_id": member.user.id, "name": "x" * 500}):
        response = await client.post("/api/v1/keys", json=body, headers=admin_headers)
        assert response.status_code in (404, 422)
    assert await _events(client, admin_headers) == []


async def test_a_tenant_admin_reads_their_tenants_log_only_and_members_none(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    ours, theirs = await make_member(runtime), await make_member(runtime)
    admin = await make_user(runtime, tenant_id=ours.tenant.id, roles=["tenant_admin"])
    for who in (ours, theirs):
        await client.post("/api/v1/keys", json={"user_id": who.user.id}, headers=admin_headers)

    seen = await _events(client, bearer(runtime, admin))
    assert [e["tenant_id"] for e in seen] == [ours.tenant.id]
    other = await client.get(
        "/api/v1/audit", params={"tenant_id": theirs.tenant.id}, headers=bearer(runtime, admin)
    )
    assert other.status_code == 404
    refused = await client.get("/api/v1/audit", headers=bearer(runtime, ours.user))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


async def test_export_as_csv_and_json_lines(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    await client.post(
        "/api/v1/keys",
        json={"user_id": member.user.id, "name": "=HYPERLINK(1)"},
        headers=admin_headers,
    )
    exported = await client.get("/api/v1/audit/export", headers=admin_headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r["action"] for r in rows] == ["key.create"]
    # a spreadsheet would run a cell starting with "=": it is quoted out
    assert '"=HYPERLINK' not in rows[0]["after"] or rows[0]["after"].startswith("{")
    assert all(not value.startswith("=") for value in rows[0].values())

    lines = await client.get(
        "/api/v1/audit/export", params={"format": "jsonl"}, headers=admin_headers
    )
    records = [orjson.loads(line) for line in lines.content.splitlines()]
    assert [r["action"] for r in records] == ["key.create"]
    assert records[0]["after"]["name"] == "=HYPERLINK(1)"


async def test_the_log_is_append_only_in_the_database(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        await audit.record(
            session, Principal.master(), "test.write", target_type="x", target_id=1, tenant_id=None
        )
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(runtime.sessions) as session:
                await session.execute(text(statement))


def test_secrets_are_redacted_from_snapshots() -> None:
    snap = audit.snapshot(
        {"name": "C1", "api_key": "sk-live-1", "nested": {"client_secret": "s", "password": "p"}}
    )
    assert snap == {
        "name": "C1",
        "api_key": "[redacted]",
        "nested": {"client_secret": "[redacted]", "password": "[redacted]"},
    }
