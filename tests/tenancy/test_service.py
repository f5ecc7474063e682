from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tokengate.db import transaction
from tokengate.errors import Conflict, InvalidRequest, NotFound
from tokengate.pagination import PageRequest, Sort
from tokengate.tenancy import service
from tokengate.tenancy.schemas import (
    USER_SORTS,
    PlanCreate,
    TeamCreate,
    TenantCreate,
    UserCreate,
)

Sessions = async_sessionmaker[AsyncSession]


async def seed(sessions: Sessions, *, max_users: int = 3) -> int:
    async with transaction(sessions) as session:
        await service.create_plan(
            session=session,
            data=PlanCreate(
                name="Free", monthly_token_limit=100_000, allowed_models=["C1"], max_users=max_users
            ),
        )
        await service.create_plan(
            session=session,
            data=PlanCreate(
                name="Pro", monthly_token_limit=5_000_000, allowed_models=["C1", "C7"], max_users=50
            ),
        )
        tenant = await service.create_tenant(
            session=session, data=TenantCreate(name="데모신문사", plan="Free")
        )
    return tenant.id


async def test_tenant_gets_its_plan_and_seoul_by_default(sessions: Sessions) -> None:
    tenant_id = await seed(sessions)
    async with sessions() as session:
        tenant = await service.get_tenant(session=session, tenant_id=tenant_id)
    assert (tenant.plan, tenant.timezone, tenant.locale) == ("Free", "Asia/Seoul", "ko")


async def test_unknown_plan_and_duplicate_tenant_are_refused(sessions: Sessions) -> None:
    await seed(sessions)
    async with transaction(sessions) as session:
        with pytest.raises(InvalidRequest, match="no plan named 'Gold'"):
            await service.create_tenant(session=session, data=TenantCreate(name="x", plan="Gold"))
    with pytest.raises(Conflict):
        async with transaction(sessions) as session:
            await service.create_tenant(
                session=session, data=TenantCreate(name="데모신문사", plan="Free")
            )


async def test_team_names_are_unique_per_tenant_regardless_of_case(sessions: Sessions) -> None:
    tenant_id = await seed(sessions)
    async with transaction(sessions) as session:
        await service.create_team(
            session=session, data=TeamCreate(tenant_id=tenant_id, name="Economy")
        )
    with pytest.raises(Conflict):
        async with transaction(sessions) as session:
            await service.create_team(
                session=session, data=TeamCreate(tenant_id=tenant_id, name=" ECONOMY ")
            )
    async with transaction(sessions) as session:
        other = await service.create_tenant(
            session=session, data=TenantCreate(name="조선일보", plan="Pro")
        )
        await service.create_team(
            session=session, data=TeamCreate(tenant_id=other.id, name="economy")
        )
        page = await service.list_teams(
            session=session, tenant_id=None, search="ECON", page=PageRequest()
        )
    assert len(page.items) == 2


async def test_plan_caps_the_number_of_users(sessions: Sessions) -> None:
    tenant_id = await seed(sessions, max_users=2)
    async with transaction(sessions) as session:
        for n in range(2):
            await service.create_user(
                session=session,
                data=UserCreate(tenant_id=tenant_id, email=f"u{n}@demo.kr", name=f"u{n}"),
            )
    with pytest.raises(Conflict, match="at most 2 users"):
        async with transaction(sessions) as session:
            await service.create_user(
                session=session, data=UserCreate(tenant_id=tenant_id, email="u9@demo.kr", name="u9")
            )
    async with sessions() as session:
        page = await service.list_users(
            session=session, tenant_id=tenant_id, search=None, page=PageRequest()
        )
    assert [u.email for u in page.items] == ["u0@demo.kr", "u1@demo.kr"]


async def test_emails_are_unique_case_insensitively(sessions: Sessions) -> None:
    tenant_id = await seed(sessions)
    async with transaction(sessions) as session:
        await service.create_user(
            session=session, data=UserCreate(tenant_id=tenant_id, email="Kim@Demo.kr", name="김")
        )
    with pytest.raises(Conflict):
        async with transaction(sessions) as session:
            await service.create_user(
                session=session,
                data=UserCreate(tenant_id=tenant_id, email="kim@demo.kr", name="김"),
            )


async def test_profile_uses_the_individual_plan_override(sessions: Sessions) -> None:
    tenant_id = await seed(sessions)
    async with transaction(sessions) as session:
        plain = await service.create_user(
            session=session, data=UserCreate(tenant_id=tenant_id, email="a@demo.kr", name="a")
        )
        upgraded = await service.create_user(
            session=session,
            data=UserCreate(tenant_id=tenant_id, email="b@demo.kr", name="b", plan="Pro"),
        )
        base = await service.get_member_profile(session=session, user_id=plain.id)
        override = await service.get_member_profile(session=session, user_id=upgraded.id)
    assert base is not None and override is not None
    assert (base.plan, base.allowed_models, base.monthly_token_limit) == ("Free", ["C1"], 100_000)
    assert (override.plan, override.allowed_models) == ("Pro", ["C1", "C7"])


async def test_block_and_unblock_keep_the_reason_only_while_blocked(sessions: Sessions) -> None:
    tenant_id = await seed(sessions)
    async with transaction(sessions) as session:
        user = await service.create_user(
            session=session, data=UserCreate(tenant_id=tenant_id, email="j@demo.kr", name="정인턴")
        )
        blocked = await service.set_user_blocked(
            session=session, user_id=user.id, blocked=True, reason="95%"
        )
        assert (blocked.status, blocked.blocked_reason) == ("blocked", "95%")
        active = await service.set_user_blocked(session=session, user_id=user.id, blocked=False)
        assert (active.status, active.blocked_reason) == ("active", None)
        with pytest.raises(NotFound):
            await service.set_user_blocked(session=session, user_id=9999, blocked=True)


async def test_system_admin_is_created_then_password_reset(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        first = await service.ensure_system_admin(
            session=session,
            email="Admin@Example.com",
            name="Admin",
            password="correct horse battery",
        )
        again = await service.ensure_system_admin(
            session=session,
            email="admin@example.com",
            name="Admin",
            password="another long password",
        )
        assert first.id == again.id and first.tenant_id is None and first.roles == ["system_admin"]
        with pytest.raises(InvalidRequest, match="e-mail"):
            await service.ensure_system_admin(
                session=session, email="nope", name="x", password="x" * 20
            )
        with pytest.raises(InvalidRequest, match="12 characters"):
            await service.ensure_system_admin(
                session=session, email="a@b.co", name="x", password="short"
            )


async def test_sorted_filtered_pages_on_every_backend(sessions: Sessions) -> None:
    tenant_id = await seed(sessions, max_users=10)
    async with transaction(sessions) as session:
        for name, roles in (("bora", ["member"]), ("Ahn", ["tenant_admin"]), ("choi", ["member"])):
            await service.create_user(
                session=session,
                data=UserCreate(
                    tenant_id=tenant_id, email=f"{name}@demo.kr", name=name, roles=roles
                ),
            )
        team = await service.create_team(
            session=session, data=TeamCreate(tenant_id=tenant_id, name="경제부")
        )
    names: list[str] = []
    page = PageRequest(None, 2)
    async with sessions() as session:
        while True:
            found = await service.list_users(
                session=session,
                tenant_id=tenant_id,
                search=None,
                page=page,
                sort=Sort.parse("-name", USER_SORTS),
            )
            names += [u.name for u in found.items]
            if found.next is None:
                break
            page = PageRequest.parse(found.next, 2)
        admins = await service.list_users(
            session=session,
            tenant_id=tenant_id,
            search=None,
            page=PageRequest(),
            role="tenant_admin",
        )
        newest = await service.list_users(
            session=session,
            tenant_id=tenant_id,
            search=None,
            page=PageRequest(None, 1),
            sort=Sort.parse("-created_at", USER_SORTS),
        )
        assert newest.next is not None
        older = await service.list_users(
            session=session,
            tenant_id=tenant_id,
            search=None,
            page=PageRequest.parse(newest.next, 5),
            sort=Sort.parse("-created_at", USER_SORTS),
        )
    assert names == ["choi", "bora", "Ahn"]
    assert [u.name for u in admins.items] == ["Ahn"]
    # a team named without an owner gets the tenant's administrator
    assert team.owner_user_id == admins.items[0].id
    assert [u.name for u in [*newest.items, *older.items]] == ["choi", "Ahn", "bora"]
