"""Two gateway processes on one ledger, 200 concurrent requests, one token limit: no overshoot."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path
from typing import Literal

import aiohttp
import orjson
import pytest

from tests.quotas.processes import (
    Reply,
    chat,
    configure_mock,
    counters,
    gateway_command,
    gateway_settings,
    limit_counter,
    mock_command,
    provision,
    reconcile,
    running,
    usage_events,
)

log = logging.getLogger(__name__)

MESSAGES = [{"role": "user", "content": "Go on."}]
MAX_TOKENS = 3000
# what the gateway reserves per request: the prompt bound (bytes of the messages' JSON) + max_tokens
RESERVATION = len(orjson.dumps(MESSAGES)) + MAX_TOKENS
FITTING = 50
AMOUNT = FITTING * RESERVATION + RESERVATION // 2
REQUESTS = 200
PLAN_TOKENS = 1_000_000_000
# ~250 ms per request, in chunks of 100 tokens: requests overlap without flooding the relay
TOKENS_PER_SECOND = 12_000
CHUNK_TOKENS = 100
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=90)


@pytest.mark.slow
@pytest.mark.postgres
# the session's PostgreSQL database, emptied for this test (conftest's any_database_url)
@pytest.mark.parametrize("any_database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("ledger", ["sql", pytest.param("redis", marks=pytest.mark.redis)])
async def test_two_gateways_admit_exactly_what_fits_and_charge_no_more_than_the_limit(
    ledger: Literal["sql", "redis"], any_database_url: str, tmp_path: Path
) -> None:
    """Exactly 50 of 200 overlapping requests are admitted, whatever the interleaving.

    Each request reserves R = P + M (P: the prompt bound, M: max_tokens) and, since the mock
    writes all M tokens, is charged a = R - d, where d is the prompt bound minus the prompt's real
    tokens. The limit's amount is A = 50R + R/2. With 100d < R (checked below), a correct ledger
    admits exactly 50 in every schedule of reserves and settles, across both processes:

    - never 51: when a 51st reserves, the 50 admitted hold at least 50a = 50R - 50d (R while
      reserved, a once settled), and 50R - 50d + R > A because 50d < R/2: it must be refused,
      so an overshoot shows as a 51st admission;
    - never fewer than 50: while fewer than 50 are admitted the counter holds at most 49R and
      49R + R <= A, so any refusal then is a phantom rejection and shows as fewer than 50.

    The ledger then holds 50a <= A used and nothing reserved, the usage events add up to the same
    figure, and ``tokengate ledger reconcile`` finds no drift.
    """
    settings = await gateway_settings(database_url=any_database_url, ledger=ledger)
    commands = [
        mock_command(tokens_per_second=TOKENS_PER_SECOND, completion_tokens=MAX_TOKENS),
        gateway_command(settings, name="gateway-1"),
        gateway_command(settings, name="gateway-2"),
    ]
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        running(*commands, logs=tmp_path) as (mock, *gateways),
        aiohttp.ClientSession(connector=connector, timeout=CLIENT_TIMEOUT) as http,
    ):
        await configure_mock(http, mock, chunk_tokens=CHUNK_TOKENS)
        account = await provision(
            http, gateways[0], mock=mock, monthly_tokens=PLAN_TOKENS, limit_tokens=AMOUNT
        )
        started = asyncio.get_running_loop().time()
        replies = await asyncio.gather(
            *(
                chat(
                    http,
                    gateways[i % 2],
                    account,
                    messages=MESSAGES,
                    max_tokens=MAX_TOKENS,
                    stream=i // 2 % 2 == 1,
                )
                for i in range(REQUESTS)
            )
        )
        elapsed = asyncio.get_running_loop().time() - started
        items = await counters(http, gateways[1], account)
        events = await usage_events(http, gateways[0], account)
        code, report = await reconcile(settings)

    unexpected = [(r.status, r.text[:300]) for r in replies if not _admitted(r) and not _refused(r)]
    assert not unexpected, (
        f"{len(unexpected)} neither admitted nor refused, e.g. {unexpected[:3]}; "
        f"{gateways[0].name} logged:\n{gateways[0].log_tail()}"
    )
    admitted = [i for i, r in enumerate(replies) if _admitted(r)]
    charged = {replies[i].total_tokens for i in admitted}
    assert len(charged) == 1 and None not in charged, f"charges differ: {charged}"
    actual = charged.pop()
    assert actual is not None
    slack = RESERVATION - actual
    assert 0 <= 100 * slack < RESERVATION, f"the test needs 100d < R (d={slack})"

    limit = limit_counter(items, account)
    log.info(
        "ledger=%s admitted=%d (gateway-1: %d, streams: %d) refused=%d used=%d amount=%d "
        "reservation=%d charge=%d in %.1fs",
        ledger,
        len(admitted),
        sum(1 for i in admitted if i % 2 == 0),
        sum(1 for i in admitted if i // 2 % 2 == 1),
        REQUESTS - len(admitted),
        limit["used"],
        AMOUNT,
        RESERVATION,
        actual,
        elapsed,
    )
    assert len(admitted) == AMOUNT // RESERVATION == FITTING
    assert limit["amount"] == AMOUNT
    assert limit["used"] == FITTING * actual <= AMOUNT
    assert [item["reserved"] for item in items] == [0] * len(items)
    assert sum(e["input_tokens"] + e["output_tokens"] for e in events) == limit["used"]
    assert Counter((e["status"], e["error_code"]) for e in events) == {
        ("ok", None): FITTING,
        ("rejected", "quota_exceeded"): REQUESTS - FITTING,
    }
    assert code == 0, report
    assert report.rstrip().endswith("total drift 0"), report


def _admitted(reply: Reply) -> bool:
    return reply.status == 200 and reply.done


def _refused(reply: Reply) -> bool:
    return reply.status == 403 and reply.error_code == "quota_exceeded"
