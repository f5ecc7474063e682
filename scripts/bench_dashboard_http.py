"""The dashboard benchmark's server and clients: ``tokengate serve`` on the bench database,
signed-in viewers, and timed GETs."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"
CLI = [sys.executable, "-c", "from tokengate.cli import main; main()"]
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
REQUEST_TIMEOUT_SECONDS = 60.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Server:
    """``tokengate serve`` running on a loopback port."""

    process: subprocess.Popen[bytes]
    base: str
    master_key: str
    log: Path


@contextmanager
def served(*, database_url: str, secret_key: str, workers: int, log: Path) -> Iterator[Server]:
    """Serve the gateway on the bench database until the block ends (its whole process group
    is stopped, workers included, however the block ends)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port = int(sock.getsockname()[1])
    master_key = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "TOKENGATE_DATABASE_URL": database_url,
        "TOKENGATE_MASTER_KEY": master_key,
        "TOKENGATE_SECRET_KEYS": secret_key,
        "TOKENGATE_HOST": LOOPBACK,
        "TOKENGATE_PORT": str(port),
        "TOKENGATE_WORKERS": str(workers),
        "TOKENGATE_LOG_LEVEL": "warning",
        "TOKENGATE_LEDGER": "sql",
        "TOKENGATE_COOKIE_SECURE": "false",
        "TOKENGATE_ACCESS_TOKEN_MINUTES": "1440",
        "TOKENGATE_SESSION_IDLE_MINUTES": "600",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [*CLI, "serve"], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        yield Server(process, f"http://{LOOPBACK}:{port}", master_key, log)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def log_tail(server: Server, size: int = 3000) -> str:
    """The end of the server's log."""
    return server.log.read_bytes()[-size:].decode(errors="replace")


async def wait_until_ready(server: Server) -> None:
    """Wait for ``/healthz``; fail with the log's end when the server dies or never answers."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    async with httpx.AsyncClient(base_url=server.base, timeout=2) as http:
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server never became ready:\n{log_tail(server)}")
            await asyncio.sleep(0.2)


@dataclass
class Viewer:
    """A signed-in person: a browser (session cookie) for pages, a bearer token for the API."""

    label: str
    browser: httpx.AsyncClient
    api: httpx.AsyncClient

    async def aclose(self) -> None:
        await self.browser.aclose()
        await self.api.aclose()


def _client(base: str, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    return httpx.AsyncClient(
        base_url=base, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
    )


async def sign_in(server: Server, *, label: str, email: str, password: str, master: bool) -> Viewer:
    """Sign in through the login form, as a person does; the API client uses the master key
    (``master``) or the person's own access token."""
    browser = _client(server.base)
    browser.cookies.set("tg_lang", "ko")
    form = await browser.get("/login")
    token = _CSRF.search(form.text)
    if token is None:
        raise RuntimeError(f"no sign-in form at /login (HTTP {form.status_code})")
    answer = await browser.post(
        "/login", data={"email": email, "password": password, "csrf_token": token[1], "next": "/"}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"signing in as {email} failed: HTTP {answer.status_code}")
    if master:
        bearer = server.master_key
    else:
        issued = await browser.post(
            "/api/v1/auth/token", json={"email": email, "password": password}
        )
        if issued.status_code != 200:
            raise RuntimeError(f"no API token for {email}: HTTP {issued.status_code}")
        bearer = str(issued.json()["access_token"])
    api = _client(server.base, {"Authorization": f"Bearer {bearer}"})
    return Viewer(label, browser, api)


@dataclass
class Timings:
    """One URL's measured requests: milliseconds of the good ones, statuses of the others."""

    ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def add(self, status: int, ms: float) -> None:
        if status == 200:
            self.ms.append(ms)
        else:
            self.failures[f"HTTP {status}"] = self.failures.get(f"HTTP {status}", 0) + 1


async def timed_get(http: httpx.AsyncClient, url: str) -> tuple[int, float]:
    """One GET, read to its last byte: its status and milliseconds."""
    began = time.perf_counter()
    try:
        response = await http.get(url)
    except httpx.HTTPError:
        return 0, (time.perf_counter() - began) * 1000
    return response.status_code, (time.perf_counter() - began) * 1000


async def measure(http: httpx.AsyncClient, url: str, *, requests: int, clients: int) -> Timings:
    """``requests`` GETs of ``url`` shared by ``clients`` concurrent closed-loop clients."""
    timings = Timings()
    left = [requests]

    async def client() -> None:
        while left[0] > 0:
            left[0] -= 1
            timings.add(*await timed_get(http, url))

    await asyncio.gather(*(client() for _ in range(clients)))
    return timings
