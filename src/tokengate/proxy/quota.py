"""The gateway's side of the ledger: what a request may cost at most, and its real charge."""

from __future__ import annotations

import time
from typing import Any

import orjson

from tokengate.catalog.schemas import Route, TokenUsage
from tokengate.catalog.service import price_usage
from tokengate.db import utcnow
from tokengate.errors import InvalidRequest, QuotaExceeded, RateLimited
from tokengate.ledger.types import Charge, Demand
from tokengate.proxy.access import Caller
from tokengate.proxy.context import RequestContext
from tokengate.quotas import enforcement
from tokengate.quotas import service as quotas
from tokengate.quotas.enforcement import Admission
from tokengate.quotas.resolve import RuleSet, Subject
from tokengate.runtime import Runtime

PER_MTOK = 1_000_000
PROMPT_FIELDS = ("messages", "tools", "functions", "system", "prompt", "input")


def output_cap(body: dict[str, Any], route: Route, *, default: int) -> tuple[str, int]:
    """The output-token field the client uses and the cap the gateway will enforce."""
    field = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    requested = body.get(field)
    if requested is not None and (
        isinstance(requested, bool) or not isinstance(requested, int) or requested < 1
    ):
        raise InvalidRequest(f"'{field}' must be a positive integer.", param=field)
    cap = requested if requested is not None else (route.default_max_tokens or default)
    if route.max_tokens_cap is not None:
        cap = min(cap, route.max_tokens_cap)
    return field, cap


def prompt_bound(body: dict[str, Any]) -> int:
    """Prompt tokens no byte-level BPE tokenizer exceeds: the bytes of the prompt's JSON."""
    return sum(len(orjson.dumps(body[f])) for f in PROMPT_FIELDS if f in body)


def subject_of(caller: Caller, route: Route) -> Subject:
    """Who the request is charged to."""
    identity, profile = caller.identity, caller.profile
    return Subject(
        tenant_id=identity.tenant_id,
        team_id=identity.team_id,
        user_id=identity.user_id,
        key_id=identity.key_id,
        timezone=profile.timezone,
        plan=profile.plan,
        monthly_token_limit=profile.monthly_token_limit,
        model=route.name,
        high_priority=identity.high_priority,
    )


async def admit_request(
    runtime: Runtime, ctx: RequestContext, *, caller: Caller, route: Route, prompt: int, cap: int
) -> Admission:
    """Reserve the request's worst case (prompt bound + output cap) on every limit."""
    settings = runtime.settings
    minimum = (
        cap
        if settings.ledger_on_insufficient == "reject"
        else min(cap, settings.ledger_min_output_tokens)
    )
    demand = Demand(
        fixed=Charge(
            tokens=prompt,
            # priced at the dearest way a prompt token can be billed (a cache write may cost more)
            cost_micros=-(-prompt * max(route.input_price, route.cache_write_price) // PER_MTOK),
            requests=1,
        ),
        output_micros_per_mtok=route.output_price,
        max_output_tokens=cap,
        min_output_tokens=minimum,
    )
    subject = ctx.subject = subject_of(caller, route)
    now = utcnow()

    async def load_rules() -> RuleSet:
        async with runtime.sessions() as session:
            return await quotas.load_rules(session=session, subject=subject, now=now)

    cache_key = (subject.tenant_id, subject.team_id, subject.user_id, subject.key_id, route.name)
    rules = await runtime.cache.rules.get(cache_key, load_rules)
    started = time.perf_counter()
    try:
        admission = await enforcement.admit(
            ledger=runtime.ledger,
            subject=subject,
            rules=rules,
            request_id=ctx.request_id,
            demand=demand,
            now=now,
            ttl=settings.reservation_ttl(),
        )
    except QuotaExceeded:
        runtime.metrics.ledger_decision(decision="quota_exceeded")
        raise
    except RateLimited:
        runtime.metrics.ledger_decision(decision="rate_limited")
        raise
    finally:
        runtime.metrics.ledger_latency(op="reserve", seconds=time.perf_counter() - started)
    runtime.metrics.ledger_decision(decision="admitted")
    return admission


async def settle_request(runtime: Runtime, ctx: RequestContext, usage: TokenUsage) -> None:
    """Charge what the request really used (once; a second call changes nothing)."""
    if ctx.admission is None or ctx.subject is None or ctx.route is None:
        return
    admission, ctx.admission = ctx.admission, None
    cost = price_usage(route=ctx.route, usage=usage)
    actual = Charge(tokens=usage.input_tokens + usage.output_tokens, cost_micros=cost, requests=1)
    started = time.perf_counter()
    await enforcement.settle(
        sessions=runtime.sessions,
        ledger=runtime.ledger,
        admission=admission,
        subject=ctx.subject,
        actual=actual,
        now=utcnow(),
    )
    runtime.metrics.ledger_latency(op="settle", seconds=time.perf_counter() - started)


def apply_params(body: dict[str, Any], route: Route) -> None:
    """Fill in a model's parameter defaults and keep the client's values within its bounds."""
    for name, rule in route.params.items():
        value = body.get(name)
        if value is None:
            if rule.default is not None:
                body[name] = rule.default
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRequest(f"'{name}' must be a number.", param=name)
        if rule.min is not None and value < rule.min:
            body[name] = rule.min
        elif rule.max is not None and value > rule.max:
            body[name] = rule.max
