"""The objects one process builds at start-up and every request shares."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from tokengate.crypto import SecretBox
from tokengate.hotcache import HotCache
from tokengate.ledger.backends.base import LedgerBackend
from tokengate.metrics import GatewayMetrics
from tokengate.settings import Settings
from tokengate.upstreams import Upstreams
from tokengate.usage.writer import UsageWriter


@dataclass
class Runtime:
    """Shared per-process state, built by the app's lifespan and kept on ``app.state``."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: aiohttp.ClientSession
    box: SecretBox
    ledger: LedgerBackend
    cache: HotCache
    usage_writer: UsageWriter
    metrics: GatewayMetrics
    routing: Upstreams


def get_runtime(connection: HTTPConnection) -> Runtime:
    """Return the runtime of the app serving this request."""
    runtime: Runtime = connection.app.state.runtime
    return runtime
