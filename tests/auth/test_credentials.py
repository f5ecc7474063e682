"""check_password, as the browser sign-in calls it: who gets in and what the others are told."""

from __future__ import annotations

import pytest

from tests.auth.factories import make_account, set_tenant, set_user
from tokengate.auth import throttle
from tokengate.auth.credentials import check_password
from tokengate.auth.models import Throttle
from tokengate.db import transaction, utcnow
from tokengate.errors import AuthenticationFailed, PermissionDenied
from tokengate.runtime import Runtime


async def check(runtime: Runtime, email: str, password: str) -> int:
    """Check as callers must: the transaction is committed even when the check refuses."""
    async with runtime.sessions() as session:
        try:
            user = await check_password(
                session, email=email, password=password, settings=runtime.settings, now=utcnow()
            )
        finally:
            await session.commit()
        return user.id


async def failures(runtime: Runtime, email: str) -> int:
    async with transaction(runtime.sessions) as session:
        row = await session.get(Throttle, throttle.password_key(email))
        return 0 if row is None else row.failures


async def test_the_right_password_returns_the_user_whatever_the_case_of_the_address(
    runtime: Runtime,
) -> None:
    account = await make_account(runtime)
    assert await check(runtime, f"  {account.email.upper()} ", account.password) == account.user.id


async def test_every_refusal_says_the_same_and_counts(runtime: Runtime) -> None:
    account = await make_account(runtime)
    archived = await make_account(runtime)
    await set_user(runtime, archived.user.id, status="archived")
    closed = await make_account(runtime)
    await set_tenant(runtime, closed.tenant.id, archived=True)
    without = await make_account(runtime, password=None)
    cases = [
        (account.email, "not the password"),
        ("nobody@example.com", account.password),
        (archived.email, archived.password),
        (closed.email, closed.password),
        (without.email, ""),
    ]
    for email, password in cases:
        with pytest.raises(AuthenticationFailed) as refused:
            await check(runtime, email, password)
        assert refused.value.message("en") == "wrong e-mail or password"
        assert refused.value.message("ko") == "이메일 또는 비밀번호가 올바르지 않습니다."
        assert await failures(runtime, email) == 1


async def test_a_success_clears_earlier_failures(runtime: Runtime) -> None:
    account = await make_account(runtime)
    with pytest.raises(AuthenticationFailed):
        await check(runtime, account.email, "not the password")
    assert await failures(runtime, account.email) == 1
    await check(runtime, account.email, account.password)
    assert await failures(runtime, account.email) == 0


async def test_a_tenant_signing_in_through_its_provider_refuses_passwords(
    runtime: Runtime,
) -> None:
    account = await make_account(runtime)
    await set_tenant(runtime, account.tenant.id, local_login=False)
    with pytest.raises(PermissionDenied) as refused:
        await check(runtime, account.email, account.password)
    assert "identity provider" in refused.value.message("en")
    assert await failures(runtime, account.email) == 0
