"""Turning a finished (or refused) request into its usage event."""

from __future__ import annotations

import time

from tokengate.catalog import service as catalog
from tokengate.catalog.schemas import TokenUsage
from tokengate.errors import (
    KeyExpired,
    PermissionDenied,
    RateLimited,
    TokengateError,
    UpstreamError,
    UpstreamTimeout,
    status_of,
)
from tokengate.keys.schemas import KeyIdentity
from tokengate.proxy.context import RequestContext
from tokengate.proxy.quota import settle_request
from tokengate.runtime import Runtime
from tokengate.usage.schemas import Outcome, UsageRecord


async def record_request(
    runtime: Runtime,
    ctx: RequestContext,
    *,
    usage: TokenUsage,
    outcome: Outcome,
    http_status: int,
    error_code: str | None = None,
    estimated: bool = False,
    ttft_ms: int | None = None,
) -> None:
    """Settle the request on the ledger, then write its usage event (and rollup)."""
    identity = ctx.identity
    if identity is None:
        return
    await settle_request(runtime, ctx, usage)
    route = ctx.route
    record = UsageRecord(
        request_id=ctx.request_id,
        created_at=ctx.created_at,
        tenant_id=identity.tenant_id,
        team_id=identity.team_id,
        user_id=identity.user_id,
        key_id=identity.key_id,
        model_id=route.model_id if route else None,
        model=route.name if route else ctx.model,
        endpoint=ctx.endpoint,
        stream=ctx.stream,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.cached_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cost_micros=catalog.price_usage(route=route, usage=usage) if route else 0,
        latency_ms=ctx.elapsed_ms(),
        ttft_ms=ttft_ms,
        status=outcome,
        http_status=http_status,
        error_code=error_code,
        estimated=estimated,
    )
    await runtime.usage_writer.write(record)
    total_s = time.perf_counter() - ctx.started
    runtime.metrics.request_finished(
        tenant=str(identity.tenant_id),
        model=route.name if route else "unresolved",
        endpoint=ctx.endpoint,
        status=outcome,
        stream=ctx.stream,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_micros=record.cost_micros,
        overhead_s=max(0.0, total_s - ctx.upstream_seconds()),
        ttft_s=None if ttft_ms is None else ttft_ms / 1000,
        total_s=total_s,
    )
    if route is not None and outcome in ("upstream_error", "timeout"):
        runtime.metrics.provider_error(
            provider=route.provider, model=route.name, kind=error_code or outcome
        )


async def record_failure(runtime: Runtime, ctx: RequestContext, error: TokengateError) -> None:
    """Record a request that ended in an error, saying what happened."""
    if isinstance(error, KeyExpired):
        ctx.identity = KeyIdentity.model_validate(error.context)
    usage = TokenUsage()
    estimated = False
    if isinstance(error, UpstreamTimeout):
        # the provider may have processed the prompt before it timed out: charge the estimate
        usage = TokenUsage(input_tokens=ctx.prompt_estimate)
        estimated = ctx.prompt_estimate > 0
    await record_request(
        runtime,
        ctx,
        usage=usage,
        outcome=_outcome_of(error),
        http_status=status_of(error),
        error_code=error.code,
        estimated=estimated,
    )


def _outcome_of(error: TokengateError) -> Outcome:
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    if isinstance(error, UpstreamError):
        return "upstream_error"
    if isinstance(error, PermissionDenied | KeyExpired | RateLimited):
        return "rejected"
    return "client_error"
