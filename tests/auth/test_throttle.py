"""The brute-force throttle: lockout after N failures, doubling backoff, lockout of codes."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete

from tests.auth.factories import enrol, make_account, sign_in, token_headers
from tokengate.auth import throttle
from tokengate.auth.credentials import check_password
from tokengate.auth.models import Throttle
from tokengate.auth.sessions import open_session
from tokengate.db import transaction, utcnow
from tokengate.errors import AccountLocked, AuthenticationFailed
from tokengate.runtime import Runtime
from tokengate.settings import Settings


async def test_wrong_passwords_lock_the_account_even_for_the_right_one(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    limit = runtime.settings.login_max_failures
    for _ in range(limit - 1):
        assert (await sign_in(client, account, password="a wrong guess")).status_code == 401
    locking = await sign_in(client, account, password="a wrong guess")
    assert locking.status_code == 429
    assert locking.json()["error"]["code"] == "account_locked"
    assert locking.headers["retry-after"] == str(runtime.settings.login_lockout_seconds)

    right = await sign_in(client, account)
    assert right.status_code == 429
    assert 0 < int(right.headers["retry-after"]) <= runtime.settings.login_lockout_seconds
    # another address is not affected
    assert (await sign_in(client, await make_account(runtime))).status_code == 200


async def test_the_lockout_doubles_and_a_success_clears_it(runtime: Runtime) -> None:
    account = await make_account(runtime)
    settings = runtime.settings
    start = utcnow()

    async def attempt(password: str, at: datetime) -> None:
        # as callers must: the refusal's count is committed, not rolled back with it
        async with runtime.sessions() as session:
            try:
                await check_password(
                    session,
                    email=account.email.upper(),
                    password=password,
                    settings=settings,
                    now=at,
                )
            finally:
                await session.commit()

    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(AuthenticationFailed):
            await attempt("wrong", start)
    with pytest.raises(AccountLocked) as first:
        await attempt("wrong", start)
    assert first.value.headers()["Retry-After"] == "30"

    later = start + timedelta(seconds=31)
    with pytest.raises(AccountLocked) as second:
        await attempt("wrong", later)
    assert second.value.headers()["Retry-After"] == "60"
    with pytest.raises(AccountLocked):
        await attempt(account.password, later + timedelta(seconds=59))

    after = later + timedelta(seconds=61)
    await attempt(account.password, after)
    async with transaction(runtime.sessions) as session:
        assert await session.get(Throttle, throttle.password_key(account.email)) is None
    with pytest.raises(AuthenticationFailed):
        await attempt("wrong", after)


def test_the_lockout_is_capped_at_an_hour(settings: Settings) -> None:
    limit = settings.login_max_failures
    assert throttle.lockout_seconds(limit - 1, settings) == 0
    assert throttle.lockout_seconds(limit, settings) == settings.login_lockout_seconds
    assert throttle.lockout_seconds(limit + 1, settings) == 2 * settings.login_lockout_seconds
    assert throttle.lockout_seconds(limit + 50, settings) == throttle.MAX_LOCKOUT_SECONDS
    assert throttle.lockout_seconds(10**9, settings) == throttle.MAX_LOCKOUT_SECONDS


async def test_failures_are_forgotten_after_a_day(runtime: Runtime) -> None:
    key = throttle.password_key("someone@example.com")
    start = utcnow()
    async with transaction(runtime.sessions) as session:
        for _ in range(runtime.settings.login_max_failures - 1):
            await throttle.record_failure(session, key=key, settings=runtime.settings, now=start)
        locked_for = await throttle.record_failure(
            session, key=key, settings=runtime.settings, now=start + timedelta(days=2)
        )
    assert locked_for == 0
    async with transaction(runtime.sessions) as session:
        row = await session.get(Throttle, key)
        assert row is not None and row.failures == 1


async def test_wrong_codes_lock_the_second_factor(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    _, codes = await enrol(client, await token_headers(client, account))
    limit = runtime.settings.login_max_failures
    answers = [(await sign_in(client, account, totp="000000")).status_code for _ in range(limit)]
    assert answers == [401] * (limit - 1) + [429]
    locked = await sign_in(client, account, totp=codes[0])
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "account_locked"
    # the recovery code was not spent while locked
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(Throttle))
    assert (await sign_in(client, account, totp=codes[0])).status_code == 200


async def test_a_wrong_code_in_a_browser_session_is_counted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # the session's last-seen time is written first in the request: the count must share its
    # transaction (SQLite has one writer) and be committed with it although the request fails
    account = await make_account(runtime)
    await enrol(client, await token_headers(client, account))
    async with transaction(runtime.sessions) as session:
        cookie, row = await open_session(
            session,
            user_id=account.user.id,
            stage="active",
            method="password",
            ip=None,
            user_agent=None,
            settings=runtime.settings,
            now=utcnow() - timedelta(minutes=2),
        )
    client.cookies.set("tg_session", cookie)
    refused = await client.post(
        "/api/v1/me/mfa/disable", json={"code": "000000"}, headers={"x-csrf-token": row.csrf_token}
    )
    client.cookies.clear()
    assert refused.status_code == 400
    async with transaction(runtime.sessions) as session:
        counted = await session.get(Throttle, throttle.totp_key(account.user.id))
        assert counted is not None and counted.failures == 1
