"""create_app(settings) -> the ASGI app: routers, error handlers, lifespan. Nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from redis.asyncio import Redis
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tokengate import api_errors
from tokengate.audit.api import router as audit_router
from tokengate.auth.api import router as auth_router
from tokengate.auth.domains_api import router as domains_router
from tokengate.auth.signin import SignIn
from tokengate.auth.views import router as sign_in_router
from tokengate.catalog.api import router as catalog_router
from tokengate.config_epoch import tracked_session_class, watch_epoch
from tokengate.config_events import ConfigEvents
from tokengate.crypto import SecretBox
from tokengate.dashboard import errors as dashboard_errors
from tokengate.dashboard.routes import router as dashboard_router
from tokengate.dashboard.viewer import SignInNeeded
from tokengate.db import create_engine, create_session_factory
from tokengate.errors import MethodNotAllowed, NotFound, TokengateError
from tokengate.heap import settle_after_startup
from tokengate.hotcache import HotCache
from tokengate.keys.api import router as keys_router
from tokengate.ledger.setup import open_ledger, sweep_forever
from tokengate.metrics import GatewayMetrics, metrics_endpoint
from tokengate.proxy.errors import anthropic_error_response, openai_error_response
from tokengate.proxy.routes import proxy_routes
from tokengate.quotas.api import router as quotas_router
from tokengate.runtime import Runtime, get_runtime
from tokengate.settings import Settings
from tokengate.tenancy.api import router as tenancy_router
from tokengate.upstreams import Upstreams
from tokengate.usage.api import router as usage_router
from tokengate.usage.writer import UsageWriter

UPSTREAM_CONNECTIONS = 1000
STATIC_DIR = Path(__file__).resolve().parent / "static"
log = structlog.get_logger()


def create_app(settings: Settings, *, serving: bool = False) -> FastAPI:
    """Build the gateway: the /v1 proxy, the /api/v1 admin API and their error handlers.

    ``serving``: this process exists to serve the app (an ASGI server's worker), so its heap
    is settled after start-up (``heap.settle_after_startup``); an app built inside a test
    process leaves that process's collector alone.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        connector = aiohttp.TCPConnector(limit=UPSTREAM_CONNECTIONS, keepalive_timeout=30)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        async with (
            aiohttp.ClientSession(connector=connector, auto_decompress=False) as http,
            open_ledger(settings, engine) as ledger,
        ):
            cache = HotCache()
            metrics = GatewayMetrics.from_environment()
            events = ConfigEvents(redis) if redis is not None else None

            def changed() -> None:
                cache.clear()
                if events is not None:
                    events.announce()

            sessions = create_session_factory(
                engine, sync_session_class=tracked_session_class(changed)
            )
            app.state.runtime = Runtime(
                settings=settings,
                engine=engine,
                sessions=sessions,
                http=http,
                box=SecretBox(settings.secret_key_list()),
                ledger=ledger,
                cache=cache,
                usage_writer=UsageWriter(sessions),
                metrics=metrics,
                routing=Upstreams(
                    on_change=lambda deployment, state: metrics.circuit_state(
                        deployment=str(deployment),
                        state=state,  # type: ignore[arg-type]
                    )
                ),
            )
            app.state.runtime.usage_writer.start()
            tasks = [
                asyncio.create_task(sweep_forever(ledger, settings.ledger_sweep_interval)),
                asyncio.create_task(
                    watch_epoch(sessions, cache.clear, interval=settings.config_poll_interval)
                ),
            ]
            if events is not None:
                tasks.append(asyncio.create_task(events.listen(cache.clear)))
            if serving:
                settle_after_startup()
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await app.state.runtime.usage_writer.stop()
                app.state.runtime.metrics.close()
                await engine.dispose()
                if redis is not None:
                    await redis.aclose()

    app = FastAPI(
        title="tokengate",
        version="0.1.0",
        summary="LLM usage-control gateway: virtual keys, exact metering, atomic quotas.",
        lifespan=lifespan,
        # /docs is served below from the vendored Swagger UI: no CDN; no ReDoc
        docs_url=None,
        redoc_url=None,
        # tokengate exports its own Prometheus metrics; FastAPI's OpenTelemetry hooks would
        # look up the global providers on every request for nothing
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # read here so a malformed TOKENGATE_OIDC_PROVIDERS stops the start (ConfigError)
    app.state.sign_in = SignIn.from_settings(settings)
    for route in proxy_routes():
        app.router.routes.append(route)
    routers = (
        auth_router,
        tenancy_router,
        keys_router,
        catalog_router,
        usage_router,
        quotas_router,
        audit_router,
        domains_router,
        sign_in_router,
        dashboard_router,
    )
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_api_route("/docs", _docs, methods=["GET"], include_in_schema=False)
    app.add_api_route("/healthz", _health, methods=["GET"], include_in_schema=False)
    app.add_route("/metrics", _metrics, methods=["GET"], include_in_schema=False)
    app.add_exception_handler(SignInNeeded, dashboard_errors.sign_in_redirect)  # type: ignore[arg-type]
    app.add_exception_handler(TokengateError, _on_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _on_http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
    return app


async def _docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="tokengate API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )


async def _health() -> dict[str, str]:
    return {"status": "ok"}


async def _metrics(request: Request) -> Response:
    return await metrics_endpoint(get_runtime(request).metrics)(request)


async def _on_error(request: Request, error: TokengateError) -> Response:
    if dashboard_errors.is_dashboard(request):
        return dashboard_errors.error_page(request, error)
    if request.url.path.startswith("/v1/messages"):
        return anthropic_error_response(request, error)
    if request.url.path.startswith("/v1"):
        return openai_error_response(request, error)
    return api_errors.api_error_response(request, error)


async def _on_validation(request: Request, error: RequestValidationError) -> Response:
    if dashboard_errors.is_dashboard(request):
        return dashboard_errors.validation_page(request, error)
    return api_errors.validation_error_response(request, error)


async def _on_unexpected(request: Request, error: Exception) -> Response:
    # the one place a bug is caught on a request: logged with its traceback, answered in the
    # surface's own shape instead of a bare 500
    log.error("unexpected error", path=request.url.path, exc_info=error)
    return await _on_error(request, TokengateError())


async def _on_http(request: Request, error: HTTPException) -> Response:
    if request.url.path.startswith("/v1") and error.status_code in (404, 405):
        return openai_error_response(request, _ROUTING_ERRORS[error.status_code]())
    return api_errors.http_error_response(request, error)


_ROUTING_ERRORS: dict[int, type[TokengateError]] = {404: NotFound, 405: MethodNotAllowed}
