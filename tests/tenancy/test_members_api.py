from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Member, make_team, make_user
from tests.proxy.test_chat import MESSAGES, events
from tests.tenancy.conftest import AuditLog, Org
from tokengate.runtime import Runtime


async def members_of(client: httpx.AsyncClient, team_id: int, headers: dict[str, str]) -> list[Any]:
    response = await client.get(f"/api/v1/teams/{team_id}/members", headers=headers)
    assert response.status_code == 200, response.text
    return [(m["user_id"], m["role"]) for m in response.json()["items"]]


async def test_leaders_add_people_of_their_tenant_to_their_team(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org, audit_log: AuditLog
) -> None:
    path = f"/api/v1/teams/{org.team.id}/members"
    added = await client.post(path, json={"user_id": org.loner.id}, headers=org.as_leader)
    assert added.status_code == 201 and added.json()["role"] == "member"
    # people may belong to several teams
    assert org.loner.id in [u for u, _ in await members_of(client, org.other_team.id, org.as_admin)]
    team = await client.get(f"/api/v1/teams/{org.team.id}", headers=org.as_member)
    assert team.json()["member_count"] == 3
    [event] = await audit_log()
    assert (event["action"], event["target_id"], event["after"]["user_id"]) == (
        "team.member.add",
        str(org.team.id),
        org.loner.id,
    )

    refusals = [
        ({"user_id": org.loner.id}, org.as_leader, 409),
        ({"user_id": org.rival_user.id}, org.as_leader, 404),
        ({"user_id": org.rival_user.id}, org.as_admin, 404),
        ({"user_id": 9999}, org.as_admin, 404),
        ({"user_id": org.admin.id, "role": "boss"}, org.as_admin, 422),
        ({"user_id": org.admin.id}, org.as_member, 403),
    ]
    for body, headers, expected in refusals:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == expected, (body, response.text)
    foreign = await client.post(
        f"/api/v1/teams/{org.other_team.id}/members",
        json={"user_id": org.admin.id},
        headers=org.as_leader,
    )
    assert foreign.status_code == 404
    assert len(await members_of(client, org.team.id, org.as_admin)) == 3
    assert len(await audit_log()) == 1


async def test_the_last_leader_names_a_successor_before_stepping_down(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    me = f"/api/v1/teams/{org.team.id}/members/{org.leader.id}"
    demote = await client.patch(me, json={"role": "member"}, headers=org.as_leader)
    assert demote.status_code == 409
    error = demote.json()["error"]
    assert "last leader" in error["message"] and error["param"] == "successor_user_id"
    leave = await client.delete(me, headers=org.as_admin)
    assert leave.status_code == 409
    assert await members_of(client, org.team.id, org.as_admin) == [
        (org.leader.id, "leader"),
        (org.member.id, "member"),
    ]
    assert await audit_log() == []

    handed = await client.patch(
        me, json={"role": "member", "successor_user_id": org.member.id}, headers=org.as_leader
    )
    assert handed.status_code == 200
    assert handed.json()["membership"]["role"] == "member"
    assert handed.json()["successor"]["user_id"] == org.member.id
    assert await members_of(client, org.team.id, org.as_admin) == [
        (org.leader.id, "member"),
        (org.member.id, "leader"),
    ]
    [event] = await audit_log()
    assert event["action"] == "team.member.update"
    assert (event["before"]["role"], event["after"]["membership"]["role"]) == ("leader", "member")


async def test_removing_a_leader_with_a_successor_from_outside_the_team(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    me = f"/api/v1/teams/{org.team.id}/members/{org.leader.id}"
    rival = await client.delete(
        me, params={"successor_user_id": org.rival_user.id}, headers=org.as_admin
    )
    assert rival.status_code == 404
    same = await client.delete(
        me, params={"successor_user_id": org.leader.id}, headers=org.as_admin
    )
    assert same.status_code == 400
    removed = await client.delete(
        me, params={"successor_user_id": org.loner.id}, headers=org.as_admin
    )
    assert removed.status_code == 200
    assert removed.json()["membership"]["user_id"] == org.leader.id
    assert await members_of(client, org.team.id, org.as_admin) == [
        (org.member.id, "member"),
        (org.loner.id, "leader"),
    ]
    [event] = await audit_log()
    assert event["action"] == "team.member.remove"
    assert event["before"]["user_id"] == org.leader.id and event["after"]["user_id"] == org.loner.id
    # the one who left leads nothing any more: the member is out of their reach
    response = await client.get(f"/api/v1/users/{org.member.id}", headers=org.as_leader)
    assert response.status_code == 404


async def test_a_last_leader_alone_leaves_freely_and_members_just_leave(
    client: httpx.AsyncClient, runtime: Runtime, org: Org
) -> None:
    solo = await make_team(runtime, tenant_id=org.tenant.id, leaders=[org.loner.id])
    gone = await client.delete(
        f"/api/v1/teams/{solo.id}/members/{org.loner.id}", headers=org.as_admin
    )
    assert gone.status_code == 200 and gone.json()["successor"] is None
    member = await client.delete(
        f"/api/v1/teams/{org.team.id}/members/{org.member.id}", headers=org.as_leader
    )
    assert member.status_code == 200
    again = await client.delete(
        f"/api/v1/teams/{org.team.id}/members/{org.member.id}", headers=org.as_leader
    )
    assert again.status_code == 404 and "not a member" in again.json()["error"]["message"]
    promote = await client.patch(
        f"/api/v1/teams/{org.team.id}/members/{org.leader.id}",
        json={"role": "leader"},
        headers=org.as_leader,
    )
    assert promote.status_code == 409 and "already a leader" in promote.json()["error"]["message"]


async def test_moving_needs_to_lead_both_teams(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    move = f"/api/v1/teams/{org.team.id}/members/{org.member.id}/move"
    body = {"to_team_id": org.other_team.id}
    assert (await client.post(move, json=body, headers=org.as_leader)).status_code == 404
    assert (await client.post(move, json=body, headers=org.as_member)).status_code == 403
    assert await audit_log() == []
    await client.post(
        f"/api/v1/teams/{org.other_team.id}/members",
        json={"user_id": org.leader.id, "role": "leader"},
        headers=org.as_admin,
    )
    moved = await client.post(move, json={**body, "role": "leader"}, headers=org.as_leader)
    assert moved.status_code == 200
    assert moved.json()["membership"] == {
        **moved.json()["membership"],
        "team_id": org.other_team.id,
        "user_id": org.member.id,
        "role": "leader",
    }
    assert await members_of(client, org.team.id, org.as_admin) == [(org.leader.id, "leader")]
    assert (org.member.id, "leader") in await members_of(client, org.other_team.id, org.as_admin)
    event = (await audit_log())[0]
    assert event["action"] == "team.member.move"
    assert (event["before"]["team_id"], event["after"]["membership"]["team_id"]) == (
        org.team.id,
        org.other_team.id,
    )


async def test_bad_moves_change_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org, audit_log: AuditLog
) -> None:
    move = f"/api/v1/teams/{org.team.id}/members/{org.member.id}/move"
    await client.post(
        f"/api/v1/teams/{org.other_team.id}/members",
        json={"user_id": org.member.id},
        headers=org.as_admin,
    )
    archived = await client.post(
        "/api/v1/teams", json={"tenant_id": org.tenant.id, "name": "폐간부"}, headers=org.as_admin
    )
    await client.delete(f"/api/v1/teams/{archived.json()['id']}", headers=org.as_admin)
    cases = [
        ({"to_team_id": org.team.id}, org.as_admin, 400),
        ({"to_team_id": org.other_team.id}, org.as_admin, 409),
        ({"to_team_id": archived.json()["id"]}, org.as_admin, 409),
        ({"to_team_id": org.rival_team.id}, org.as_admin, 404),
        ({"to_team_id": org.rival_team.id}, admin_headers, 400),
        ({"to_team_id": 9999}, org.as_admin, 404),
    ]
    before = await audit_log()
    for body, headers, expected in cases:
        response = await client.post(move, json=body, headers=headers)
        assert response.status_code == expected, (body, response.text)
    leader_move = await client.post(
        f"/api/v1/teams/{org.team.id}/members/{org.leader.id}/move",
        json={"to_team_id": org.rival_team.id},
        headers=admin_headers,
    )
    assert leader_move.status_code == 400
    assert await members_of(client, org.team.id, org.as_admin) == [
        (org.leader.id, "leader"),
        (org.member.id, "member"),
    ]
    assert await audit_log() == before


async def test_a_move_leaves_past_usage_with_the_old_team(
    client: httpx.AsyncClient, runtime: Runtime, member: Member, admin_headers: dict[str, str]
) -> None:
    tenant = member.tenant.id
    colleague = await make_user(runtime, tenant_id=tenant)
    old = await make_team(
        runtime, tenant_id=tenant, leaders=[colleague.id], members=[member.user.id]
    )
    new = await make_team(runtime, tenant_id=tenant)
    chat = {"model": "C1", "messages": MESSAGES}
    key = {"Authorization": f"Bearer {member.key}"}
    assert (await client.post("/v1/chat/completions", json=chat, headers=key)).status_code == 200
    moved = await client.post(
        f"/api/v1/teams/{old.id}/members/{member.user.id}/move",
        json={"to_team_id": new.id},
        headers=admin_headers,
    )
    assert moved.status_code == 200
    assert (await client.post("/v1/chat/completions", json=chat, headers=key)).status_code == 200
    assert [e.team_id for e in await events(runtime)] == [new.id, old.id]
