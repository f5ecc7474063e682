"""A gateway killed mid-request: its reservations hold until swept, then free, never charged."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import aiohttp
import orjson
import pytest

from tests.quotas.processes import (
    Account,
    Reply,
    Server,
    chat,
    configure_mock,
    counters,
    crash,
    gateway_command,
    gateway_settings,
    limit_counter,
    mock_command,
    provision,
    reconcile,
    running,
    usage_events,
)
from tokengate.db import create_engine, utcnow
from tokengate.ledger.setup import open_ledger
from tokengate.settings import Settings

log = logging.getLogger(__name__)

MESSAGES = [{"role": "user", "content": "Go on."}]
MAX_TOKENS = 200
RESERVATION = len(orjson.dumps(MESSAGES)) + MAX_TOKENS
COMPLETED = 4
IN_FLIGHT = 6
AMOUNT = (COMPLETED + IN_FLIGHT) * RESERVATION
PLAN_TOKENS = 1_000_000_000
# a reservation lives this + 60 s: the test sweeps with a future clock instead of waiting
TOTAL_TIMEOUT = 30.0
# 200 tokens at 10 per second: the in-flight requests outlive the gateway by far
SLOW_TOKENS_PER_SECOND = 10
SWEEP_INTERVAL = 0.2
WAIT_SECONDS = 30.0
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=90)


@pytest.mark.slow
@pytest.mark.postgres
# the session's PostgreSQL database, emptied for this test (conftest's any_database_url)
@pytest.mark.parametrize("any_database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("ledger", ["sql", pytest.param("redis", marks=pytest.mark.redis)])
async def test_a_killed_gateway_s_reservations_block_until_swept_and_are_never_charged(
    ledger: Literal["sql", "redis"], any_database_url: str, tmp_path: Path
) -> None:
    """Kill -9 a gateway with 6 requests in flight, restart it, and follow their reservations.

    The limit's amount is (4 + 6)R. 4 requests complete first (each charged a = R - d). Then 6
    slow requests reserve R each and the gateway is SIGKILLed. The restarted gateway (sweeping
    every 0.2 s) sees the 6 reservations intact; they leave 4d < R of room, so a new request is
    refused. A sweep at a clock past their deadline drops exactly those 6 and charges nothing:
    reserved is 0, used is still the 4 completed requests' usage, and a new request fits again.
    The usage events add up to the ledger's figure and ``tokengate ledger reconcile`` finds no
    drift.
    """
    settings = await gateway_settings(
        database_url=any_database_url,
        ledger=ledger,
        upstream_total_timeout=TOTAL_TIMEOUT,
        ledger_sweep_interval=SWEEP_INTERVAL,
    )
    mock_cmd = mock_command(tokens_per_second=0, completion_tokens=MAX_TOKENS)
    started = asyncio.get_running_loop().time()
    async with (
        running(mock_cmd, gateway_command(settings), logs=tmp_path) as (mock, gateway),
        aiohttp.ClientSession(timeout=CLIENT_TIMEOUT) as http,
    ):
        account = await provision(
            http, gateway, mock=mock, monthly_tokens=PLAN_TOKENS, limit_tokens=AMOUNT
        )
        completed = await asyncio.gather(
            *(_chat(http, gateway, account, stream=i % 2 == 1) for i in range(COMPLETED))
        )
        assert [(r.status, r.done) for r in completed] == [(200, True)] * COMPLETED
        actual = completed[0].total_tokens
        assert actual is not None and {r.total_tokens for r in completed} == {actual}
        slack = RESERVATION - actual
        assert 0 <= COMPLETED * slack < RESERVATION, f"the test needs 4d < R (d={slack})"
        settled = COMPLETED * actual

        await configure_mock(http, mock, tokens_per_second=SLOW_TOKENS_PER_SECOND)
        flights = [
            asyncio.create_task(_chat(http, gateway, account, stream=i % 2 == 1))
            for i in range(IN_FLIGHT)
        ]
        held = await _wait_for_reserved(http, gateway, account, IN_FLIGHT * RESERVATION)
        assert held["used"] == settled
        await crash(gateway)
        lost = await asyncio.wait_for(asyncio.gather(*flights, return_exceptions=True), 30)
        assert all(isinstance(r, aiohttp.ClientError) for r in lost), lost
        await configure_mock(http, mock, tokens_per_second=0)

        restart = gateway_command(settings, name="gateway-restarted")
        async with running(restart, logs=tmp_path) as (restarted,):
            # several sweeps of the restarted gateway: they leave unexpired reservations alone
            await asyncio.sleep(10 * SWEEP_INTERVAL)
            orphaned = await counters(http, restarted, account)
            blocked = await _chat(http, restarted, account, stream=False)
            swept = await _sweep(settings, now=utcnow() + settings.reservation_ttl())
            freed = await counters(http, restarted, account)
            after = await _chat(http, restarted, account, stream=True)
            final = await counters(http, restarted, account)
            events = await usage_events(http, restarted, account)
            code, report = await reconcile(settings)
    log.info(
        "ledger=%s after the kill: %s; swept=%d; final: %s; in %.1fs",
        ledger,
        [(c["used"], c["reserved"]) for c in orphaned],
        swept,
        [(c["used"], c["reserved"]) for c in final],
        asyncio.get_running_loop().time() - started,
    )

    in_flight = IN_FLIGHT * RESERVATION
    assert [(c["used"], c["reserved"]) for c in orphaned] == [(settled, in_flight)] * 2
    assert (blocked.status, blocked.error_code) == (403, "quota_exceeded")
    assert swept == IN_FLIGHT
    assert [(c["used"], c["reserved"]) for c in freed] == [(settled, 0)] * 2
    assert (after.status, after.done, after.total_tokens) == (200, True, actual)
    assert [(c["used"], c["reserved"]) for c in final] == [(settled + actual, 0)] * 2
    assert limit_counter(final, account)["used"] <= AMOUNT
    assert sum(e["input_tokens"] + e["output_tokens"] for e in events) == settled + actual
    assert Counter((e["status"], e["error_code"]) for e in events) == {
        ("ok", None): COMPLETED + 1,
        ("rejected", "quota_exceeded"): 1,
    }
    assert code == 0, report
    assert report.rstrip().endswith("total drift 0"), report


async def _chat(
    http: aiohttp.ClientSession, gateway: Server, account: Account, *, stream: bool
) -> Reply:
    return await chat(
        http, gateway, account, messages=MESSAGES, max_tokens=MAX_TOKENS, stream=stream
    )


async def _wait_for_reserved(
    http: aiohttp.ClientSession, gateway: Server, account: Account, reserved: int
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        counter = limit_counter(await counters(http, gateway, account), account)
        if counter["reserved"] == reserved or loop.time() > deadline:
            assert counter["reserved"] == reserved, counter
            return counter
        await asyncio.sleep(0.05)


async def _sweep(settings: Settings, *, now: datetime) -> int:
    """Sweep the ledger the gateways use, as their sweeper would at ``now``."""
    engine = create_engine(settings.database_url)
    try:
        async with open_ledger(settings, engine) as ledger:
            return await ledger.sweep(now=now)
    finally:
        await engine.dispose()
