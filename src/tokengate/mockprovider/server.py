import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

from tokengate.mockprovider.app import (
    clear_recorded_requests,
    create_mock_app,
    recorded_requests,
    release_hanging_requests,
    set_config,
)
from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.state import RecordedRequest

LOOPBACK = "127.0.0.1"
GRACEFUL_SHUTDOWN_SECONDS = 5


@dataclass(frozen=True, slots=True)
class RunningMock:
    """A mock provider listening on a loopback port."""

    app: Starlette
    port: int

    @property
    def root_url(self) -> str:
        """The server's address, for the Anthropic SDK, which adds /v1/messages itself."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in /v1."""
        return f"{self.root_url}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """The provider requests received so far, oldest first."""
        return recorded_requests(self.app)

    def set_config(self, config: MockConfig) -> None:
        """Replace the config for the requests that follow."""
        set_config(self.app, config)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        clear_recorded_requests(self.app)


def serve_mock_provider(*, host: str, port: int, config: MockConfig | None = None) -> None:
    """Run the mock provider under uvicorn until interrupted."""
    uvicorn.run(
        create_mock_app(config),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        ws="none",
        lifespan="off",
    )


@asynccontextmanager
async def serving(app: ASGIApp, *, port: int = 0, lifespan: str = "off") -> AsyncIterator[int]:
    """Serve any ASGI app on loopback in the current event loop; yield the port it listens on."""
    # Name the protocol: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it Nagle's algorithm and delayed ACKs add 40 ms to every keep-alive request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            ws="none",
            lifespan=lifespan,  # type: ignore[arg-type]
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.001)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def running_mock_provider(config: MockConfig | None = None) -> AsyncIterator[RunningMock]:
    """Run the mock provider on a free loopback port in the current event loop."""
    app = create_mock_app(config)
    async with serving(app) as port:
        try:
            yield RunningMock(app=app, port=port)
        finally:
            # answered with a 503, so that shutting down does not wait on them
            release_hanging_requests(app)
