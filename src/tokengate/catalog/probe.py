"""Connection tests: a one-token request to an upstream, reported instead of raised."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.catalog import service
from tokengate.catalog.schemas import ConnectionTest, ProbeResult, ProbeTarget, Route, Upstream
from tokengate.crypto import SecretBox
from tokengate.errors import UpstreamError, UpstreamStatus, UpstreamTimeout
from tokengate.providers import anthropic, azure, openai
from tokengate.providers.base import Timeouts, UpstreamRequest, open_upstream, read_body

# short: an administrator is waiting for the answer, and a healthy provider answers one token fast
PROBE_TIMEOUTS = Timeouts(connect=3.0, read=10.0, total=10.0)
PROMPT = [{"role": "user", "content": "ping"}]
_HINTS = {
    401: "check the API key",
    403: "check the API key's permissions",
    404: "check the base URL and the upstream model name",
}


async def probe(
    http: aiohttp.ClientSession,
    *,
    provider: str,
    upstream: Upstream,
    deployment_id: int | None,
    timeouts: Timeouts = PROBE_TIMEOUTS,
) -> ProbeResult:
    """Send a one-token request to the upstream and say how it went; never raises for the
    upstream's failures (refused, unknown host, timeout, error status)."""
    request = _request(provider, upstream)
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    try:
        response = await open_upstream(http, request, timeouts)
        status = response.status
        await read_body(response)
    except UpstreamError as exc:
        status = exc.upstream_status if isinstance(exc, UpstreamStatus) else None
        error = _explain(exc, timeouts)
        if upstream.api_key:
            # a provider may quote the key it refused
            error = error.replace(upstream.api_key, "****")
    return ProbeResult(
        deployment_id=deployment_id,
        upstream_model=upstream.upstream_model,
        base_url=upstream.base_url,
        ok=error is None,
        latency_ms=int((time.perf_counter() - started) * 1000),
        status=status,
        error=error,
    )


async def probe_model(
    *,
    session: AsyncSession,
    box: SecretBox,
    http: aiohttp.ClientSession,
    model_id: int,
    timeouts: Timeouts = PROBE_TIMEOUTS,
) -> ConnectionTest:
    """Send a one-token request to every deployment of a model, all at once."""
    model = await service.load_model(session=session, model_id=model_id)
    results = await asyncio.gather(
        *(
            probe(http, provider=model.provider, upstream=u, deployment_id=u.id, timeouts=timeouts)
            for u in await service.model_upstreams(session=session, box=box, model=model)
        )
    )
    return ConnectionTest(
        model_id=model.id, ok=all(r.ok for r in results), deployments=list(results)
    )


async def probe_configuration(
    *, http: aiohttp.ClientSession, target: ProbeTarget, timeouts: Timeouts = PROBE_TIMEOUTS
) -> ConnectionTest:
    """Send a one-token request to an upstream not registered yet."""
    upstream = Upstream(
        id=0,
        upstream_model=target.upstream_model,
        base_url=str(target.base_url).rstrip("/"),
        api_key=target.api_key,
        weight=1,
    )
    result = await probe(
        http, provider=target.provider, upstream=upstream, deployment_id=None, timeouts=timeouts
    )
    return ConnectionTest(model_id=None, ok=result.ok, deployments=[result])


def _request(provider: str, upstream: Upstream) -> UpstreamRequest:
    route = Route(
        model_id=0,
        name=upstream.upstream_model,
        provider=provider,
        upstream_model=upstream.upstream_model,
        base_url=upstream.base_url,
        api_key=upstream.api_key,
        input_price=0,
        output_price=0,
        cached_input_price=0,
        cache_write_price=0,
        default_max_tokens=None,
        max_tokens_cap=None,
    )
    if provider == "anthropic":
        body = {"model": upstream.upstream_model, "max_tokens": 1, "messages": PROMPT}
        return anthropic.upstream_request(
            route=route, path=anthropic.MESSAGES_PATH, body=orjson.dumps(body)
        )
    # OpenAI's newer models refuse max_tokens; compatible servers may not know its successor
    cap = "max_completion_tokens" if provider in ("openai", "azure") else "max_tokens"
    body = {"model": upstream.upstream_model, "messages": PROMPT, cap: 1}
    build = azure.upstream_request if provider == "azure" else openai.upstream_request
    return build(route=route, path="/chat/completions", body=orjson.dumps(body))


def _explain(error: UpstreamError, timeouts: Timeouts) -> str:
    if isinstance(error, UpstreamTimeout):
        return f"no answer within {timeouts.total:g} seconds"
    if isinstance(error, UpstreamStatus):
        hint = _HINTS.get(error.upstream_status)
        detail = error.context.get("detail") or "no detail"
        message = f"the provider answered {error.upstream_status}: {detail}"
        return f"{message} ({hint})" if hint else message
    cause = error.__cause__
    # the network error names the host and what failed (refused, unknown name, TLS)
    return f"{error.message('en')} ({cause})" if cause is not None else error.message("en")
