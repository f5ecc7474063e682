"""The relay pipeline of the OpenAI-style endpoints: authenticate, resolve, reserve, relay,
meter, settle, record."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import orjson
from starlette.requests import Request
from starlette.responses import Response

from tokengate.catalog.schemas import Route, TokenUsage
from tokengate.errors import Locale, TokengateError, UpstreamError
from tokengate.providers import openai
from tokengate.providers.base import Timeouts, open_upstream, read_body
from tokengate.proxy import access
from tokengate.proxy.context import RequestContext, read_json_body, require_string
from tokengate.proxy.endpoints import CHAT, COMPLETIONS, EMBEDDINGS, Endpoint
from tokengate.proxy.quota import admit_request, output_cap, prompt_bound
from tokengate.proxy.recording import record_failure, record_request
from tokengate.proxy.sse_openai import OpenAIEvents
from tokengate.proxy.streaming import SSE_HEADERS, StreamRelay, StreamResult
from tokengate.runtime import Runtime, get_runtime
from tokengate.usage.schemas import Outcome


async def chat_completions(request: Request) -> Response | StreamRelay:
    """Serve ``POST /v1/chat/completions``, streaming or not."""
    return await relay(request, CHAT)


async def completions(request: Request) -> Response | StreamRelay:
    """Serve ``POST /v1/completions`` (legacy text completions), streaming or not."""
    return await relay(request, COMPLETIONS)


async def embeddings(request: Request) -> Response | StreamRelay:
    """Serve ``POST /v1/embeddings``."""
    return await relay(request, EMBEDDINGS)


async def relay(request: Request, endpoint: Endpoint) -> Response | StreamRelay:
    """Relay one request of an OpenAI-style endpoint, recording what happened."""
    runtime = get_runtime(request)
    ctx = RequestContext(endpoint=endpoint.name)
    request.state.request_id = ctx.request_id
    with runtime.metrics.in_flight():
        try:
            return await _relay(runtime, request, ctx, endpoint)
        except TokengateError as error:
            await record_failure(runtime, ctx, error)
            raise


async def _relay(
    runtime: Runtime, request: Request, ctx: RequestContext, endpoint: Endpoint
) -> Response | StreamRelay:
    caller = await access.authenticate(runtime, request)
    ctx.identity, ctx.caller = caller.identity, caller
    request.state.locale = caller.locale
    body = await read_json_body(request, limit=runtime.settings.max_body_bytes)
    ctx.model = require_string(body, "model")
    ctx.stream = endpoint.streams and body.get("stream") is True
    access.ensure_active(caller)
    route = ctx.route = await access.resolve_model(runtime, caller, ctx.model)
    ctx.prompt_estimate = endpoint.estimate_prompt(endpoint.prompt_of(body))
    client_wants_usage = _wants_usage(body)
    field, cap = "max_tokens", 0
    if endpoint.generates:
        default = endpoint.implicit_max_tokens or runtime.settings.default_max_tokens
        field, cap = output_cap(body, route, default=default)
    admission = ctx.admission = await admit_request(
        runtime, ctx, caller=caller, route=route, prompt=prompt_bound(body), cap=cap
    )
    if endpoint.generates:
        # the provider may never produce more than was reserved
        body[field] = admission.reservation.output_tokens
    extra = admission.remaining.headers()
    ctx.upstream_started = time.perf_counter()
    upstream = await open_upstream(
        runtime.http,
        openai.upstream_request(
            route=route, path=endpoint.upstream_path, body=_rewrite(body, route)
        ),
        _timeouts(runtime),
    )
    if ctx.stream:
        return _stream(runtime, ctx, route, caller.locale, upstream, client_wants_usage, extra)
    raw = await read_body(upstream)
    ctx.upstream_ended = time.perf_counter()
    return await _complete(runtime, ctx, endpoint, route, raw, extra)


async def _complete(
    runtime: Runtime,
    ctx: RequestContext,
    endpoint: Endpoint,
    route: Route,
    raw: bytes,
    extra: dict[str, str],
) -> Response:
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UpstreamError("The model provider returned a response that is not JSON.") from exc
    if not isinstance(payload, dict):
        raise UpstreamError("The model provider returned an unexpected response.")
    usage = openai.usage_from_payload(payload)
    estimated = usage is None
    if usage is None:
        usage = TokenUsage(
            input_tokens=ctx.prompt_estimate, output_tokens=endpoint.estimate_output(payload)
        )
    payload["model"] = route.name
    await record_request(
        runtime, ctx, usage=usage, outcome="ok", http_status=200, estimated=estimated
    )
    return Response(
        orjson.dumps(payload),
        media_type="application/json",
        headers={"x-request-id": ctx.request_id, **extra},
    )


def _stream(
    runtime: Runtime,
    ctx: RequestContext,
    route: Route,
    locale: Locale,
    upstream: aiohttp.ClientResponse,
    client_wants_usage: bool,
    extra: dict[str, str],
) -> StreamRelay:
    swap = None
    if route.upstream_model != route.name:
        swap = (
            b'"model":' + orjson.dumps(route.upstream_model),
            b'"model":' + orjson.dumps(route.name),
        )

    async def finish(result: StreamResult) -> None:
        ctx.upstream_ended = time.perf_counter()
        await _record_stream(runtime, ctx, result)

    return StreamRelay(
        upstream=upstream,
        events=OpenAIEvents(client_wants_usage=client_wants_usage, model_swap=swap),
        headers=[
            *SSE_HEADERS,
            (b"x-request-id", ctx.request_id.encode()),
            *((k.encode(), v.encode()) for k, v in extra.items()),
        ],
        elapsed_ms=ctx.elapsed_ms,
        in_flight=runtime.metrics.in_flight(),
        on_finish=finish,
        locale=locale,
    )


async def _record_stream(runtime: Runtime, ctx: RequestContext, result: StreamResult) -> None:
    usage = result.usage
    estimated = usage is None
    if usage is None:
        usage = TokenUsage(input_tokens=ctx.prompt_estimate, output_tokens=result.output_estimate)
    outcome: Outcome
    if result.client_gone:
        outcome, status, code = "cancelled", 499, "client_disconnected"
    elif result.error is not None:
        outcome, status, code = "upstream_error", result.error.status_code, result.error.code
    else:
        outcome, status, code = "ok", 200, None
    await record_request(
        runtime,
        ctx,
        usage=usage,
        outcome=outcome,
        http_status=status,
        error_code=code,
        estimated=estimated,
        ttft_ms=result.ttft_ms,
    )


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _rewrite(body: dict[str, Any], route: Route) -> bytes:
    """Point the body at the upstream model and ask for usage on streams."""
    body["model"] = route.upstream_model
    if body.get("stream") is True:
        options = body.get("stream_options")
        body["stream_options"] = {**(options if isinstance(options, dict) else {})}
        body["stream_options"]["include_usage"] = True
    return orjson.dumps(body)


def _timeouts(runtime: Runtime) -> Timeouts:
    settings = runtime.settings
    return Timeouts(
        connect=settings.upstream_connect_timeout,
        read=settings.upstream_read_timeout,
        total=settings.upstream_total_timeout,
    )
