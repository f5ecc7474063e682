"""The relay pipeline of the OpenAI-style endpoints: authenticate, resolve, reserve, relay,
meter, settle, record."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
import orjson
from starlette.requests import Request
from starlette.responses import Response

from tokengate.catalog.schemas import Route, TokenUsage
from tokengate.errors import (
    InvalidRequest,
    Locale,
    ModelNotAllowed,
    ModelNotFound,
    TokengateError,
    UpstreamError,
)
from tokengate.providers.base import Timeouts, open_upstream, read_body
from tokengate.proxy import access
from tokengate.proxy.bridges import Bridge, StreamContext, bridge_for
from tokengate.proxy.context import RequestContext, read_json_body, require_string
from tokengate.proxy.endpoints import CHAT, COMPLETIONS, EMBEDDINGS, MESSAGES, Endpoint
from tokengate.proxy.quota import admit_request, apply_params, output_cap, prompt_bound
from tokengate.proxy.recording import record_failure, record_request
from tokengate.proxy.streaming import SSE_HEADERS, EventFilter, StreamRelay, StreamResult
from tokengate.routing import Attempt, Candidate, run_with_failover
from tokengate.runtime import Runtime, get_runtime
from tokengate.upstreams import classify
from tokengate.usage.schemas import Outcome

# who calls: by default the key the request presents (see ``proxy.held_key`` for the other)
Authenticate = Callable[[Runtime, Request], Awaitable[access.Caller]]


async def chat_completions(request: Request) -> Response | StreamRelay:
    """Serve ``POST /v1/chat/completions``, streaming or not."""
    return await relay(request, CHAT)


async def completions(request: Request) -> Response | StreamRelay:
    """Serve ``POST /v1/completions`` (legacy text completions), streaming or not."""
    return await relay(request, COMPLETIONS)


async def embeddings(request: Request) -> Response | StreamRelay:
    """Serve ``POST /v1/embeddings``."""
    return await relay(request, EMBEDDINGS)


async def messages(request: Request) -> Response | StreamRelay:
    """Serve Anthropic's ``POST /v1/messages``, streaming or not."""
    return await relay(request, MESSAGES)


async def relay(
    request: Request, endpoint: Endpoint, *, authenticate: Authenticate = access.authenticate
) -> Response | StreamRelay:
    """Relay one request of an OpenAI-style endpoint, recording what happened."""
    runtime = get_runtime(request)
    ctx = RequestContext(endpoint=endpoint.name)
    request.state.request_id = ctx.request_id
    with runtime.metrics.in_flight():
        try:
            return await _relay(runtime, request, ctx, endpoint, authenticate)
        except TokengateError as error:
            await record_failure(runtime, ctx, error)
            raise


async def _relay(
    runtime: Runtime,
    request: Request,
    ctx: RequestContext,
    endpoint: Endpoint,
    authenticate: Authenticate,
) -> Response | StreamRelay:
    caller = await authenticate(runtime, request)
    ctx.identity, ctx.caller = caller.identity, caller
    request.state.locale = caller.locale
    body = await read_json_body(request, limit=runtime.settings.max_body_bytes)
    ctx.model = require_string(body, "model")
    ctx.stream = endpoint.streams and body.get("stream") is True
    access.ensure_active(caller)
    if body.get("n") not in (None, 1):
        # each choice may use max_tokens: the reservation would not cover them
        raise InvalidRequest("Only one choice per request (n = 1) is supported.", param="n")
    route = ctx.route = await access.resolve_model(runtime, caller, ctx.model)
    ctx.count_prompt = partial(endpoint.estimate_prompt, endpoint.prompt_of(body))
    cap = _output_cap(runtime, endpoint, body, route)
    client_wants_usage = _wants_usage(body)
    first = _leg(endpoint, route, body, stream=ctx.stream)  # a body that cannot be sent: 400
    admission = ctx.admission = await admit_request(
        runtime, ctx, caller=caller, route=route, prompt=prompt_bound(body), cap=cap
    )
    granted = admission.reservation.output_tokens if endpoint.generates else None
    legs = [first, *await _fallback_legs(runtime, caller, endpoint, route, body, ctx.stream)]
    ctx.upstream_started = time.perf_counter()
    upstream, leg = await _open(runtime, legs, granted)
    ctx.route = route = leg.route
    extra = admission.remaining.headers()
    if ctx.stream:
        streams = StreamContext(
            public_model=route.name,
            model_swap=_model_swap(route),
            client_wants_usage=client_wants_usage,
            count_prompt=lambda: ctx.prompt_estimate,
        )
        return _stream(runtime, ctx, upstream, leg.bridge.events(streams), caller.locale, extra)
    raw = await read_body(upstream)
    ctx.upstream_ended = time.perf_counter()
    return await _complete(runtime, ctx, endpoint, leg.bridge, route, raw, extra)


@dataclass(frozen=True)
class Leg:
    """One model a request may be sent to: its route, its bridge and the body it gets."""

    route: Route
    bridge: Bridge
    body: dict[str, Any]


def _output_cap(runtime: Runtime, endpoint: Endpoint, body: dict[str, Any], route: Route) -> int:
    if not endpoint.generates:
        return 0
    if endpoint.cap_required and "max_tokens" not in body:
        raise InvalidRequest("'max_tokens' is required.", param="max_tokens")
    default = endpoint.implicit_max_tokens or runtime.settings.default_max_tokens
    return output_cap(body, route, default=default)[1]


def _leg(endpoint: Endpoint, route: Route, body: dict[str, Any], *, stream: bool) -> Leg:
    """Translate the client's body for one model (the client's body is left as it was)."""
    bridge = bridge_for(endpoint.client, route, openai_path=endpoint.upstream_path)
    mine = dict(body)
    apply_params(mine, route)
    upstream_body = bridge.to_upstream(mine)
    _point_upstream(upstream_body, route, stream=stream, ask_usage=bridge.asks_stream_usage)
    return Leg(route=route, bridge=bridge, body=upstream_body)


async def _fallback_legs(
    runtime: Runtime,
    caller: access.Caller,
    endpoint: Endpoint,
    route: Route,
    body: dict[str, Any],
    stream: bool,
) -> list[Leg]:
    """The model's fallbacks this caller's plan allows and this request can be sent to."""
    legs = []
    for name in route.fallbacks:
        try:
            fallback = await access.resolve_model(runtime, caller, name)
            legs.append(_leg(endpoint, fallback, body, stream=stream))
        except (ModelNotFound, ModelNotAllowed, InvalidRequest):
            continue
    return legs


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


async def _open(
    runtime: Runtime, legs: list[Leg], granted: int | None
) -> tuple[aiohttp.ClientResponse, Leg]:
    """Open the upstream call on a deployment of the model, else of its fallbacks, failing over
    before the first byte (connection refused, timeout, 429 or 5xx); breakers are informed."""
    by_model = {leg.route.name: leg for leg in legs}

    async def attempt(chosen: Attempt) -> tuple[aiohttp.ClientResponse, Leg]:
        leg = by_model[chosen.model]
        upstream = next(u for u in leg.route.upstreams if u.id == chosen.deployment.id)
        target = leg.route.on(upstream)
        body = {**leg.body, "model": target.upstream_model}
        if granted is not None:
            # the provider may never produce more than was reserved
            field = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
            body[field] = granted
        request = leg.bridge.build(
            route=target, path=leg.bridge.upstream_path, body=orjson.dumps(body)
        )
        response = await open_upstream(runtime.http, request, _timeouts(runtime))
        return response, Leg(route=target, bridge=leg.bridge, body=body)

    candidates = [
        Candidate(model=leg.route.name, balancer=runtime.routing.balancer(leg.route))
        for leg in legs
    ]
    return await run_with_failover(
        candidates=candidates,
        attempt=attempt,
        policy=runtime.routing.policy,
        sleep=asyncio.sleep,
        classify=classify,
    )


def _point_upstream(body: dict[str, Any], route: Route, *, stream: bool, ask_usage: bool) -> None:
    """Name the upstream model, and ask an OpenAI-style upstream for usage on streams."""
    body["model"] = route.upstream_model
    if stream and ask_usage:
        options = body.get("stream_options")
        body["stream_options"] = {**(options if isinstance(options, dict) else {})}
        body["stream_options"]["include_usage"] = True


def _model_swap(route: Route) -> tuple[bytes, bytes] | None:
    if route.upstream_model == route.name:
        return None
    return (
        b'"model":' + orjson.dumps(route.upstream_model),
        b'"model":' + orjson.dumps(route.name),
    )


async def _complete(
    runtime: Runtime,
    ctx: RequestContext,
    endpoint: Endpoint,
    bridge: Bridge,
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
    usage = bridge.usage_of(payload)
    estimated = usage is None
    if usage is None:
        usage = TokenUsage(
            input_tokens=ctx.prompt_estimate, output_tokens=endpoint.estimate_output(payload)
        )
    try:
        answer = bridge.from_upstream(payload, route.name)
    except ValueError as exc:
        raise UpstreamError(f"The model provider's answer cannot be read: {exc}") from exc
    await record_request(
        runtime, ctx, usage=usage, outcome="ok", http_status=200, estimated=estimated
    )
    return Response(
        orjson.dumps(answer),
        media_type="application/json",
        headers={"x-request-id": ctx.request_id, **extra},
    )


def _stream(
    runtime: Runtime,
    ctx: RequestContext,
    upstream: aiohttp.ClientResponse,
    events: EventFilter,
    locale: Locale,
    extra: dict[str, str],
) -> StreamRelay:
    async def finish(result: StreamResult) -> None:
        ctx.upstream_ended = time.perf_counter()
        await _record_stream(runtime, ctx, result)

    return StreamRelay(
        upstream=upstream,
        events=events,
        headers=[
            *SSE_HEADERS,
            (b"x-request-id", ctx.request_id.encode()),
            *((k.encode(), v.encode()) for k, v in extra.items()),
        ],
        elapsed_ms=ctx.elapsed_ms,
        on_finish=finish,
        locale=locale,
        in_flight=runtime.metrics.in_flight(),
        output_limit=ctx.admission.reservation.output_tokens if ctx.admission else None,
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


def _timeouts(runtime: Runtime) -> Timeouts:
    settings = runtime.settings
    return Timeouts(
        connect=settings.upstream_connect_timeout,
        read=settings.upstream_read_timeout,
        total=settings.upstream_total_timeout,
    )
