"""The mock provider and gateways as real processes, and the calls the quota tests make on them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import orjson
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from tokengate.settings import Settings

CLI = (sys.executable, "-c", "from tokengate.cli import main; main()")
LOOPBACK = "127.0.0.1"
MASTER_KEY = "quota-e2e-master-key-0123456789abcdef"
SECRET_KEY = "quota-e2e-secret-key-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
REDIS_ENV = "TOKENGATE_TEST_REDIS_URL"
# these tests own this database of the test Redis: they empty it before each run
# a Redis database of its own per pytest-xdist worker (gw0 → 9, gw1 → 10): emptied per test
REDIS_DB = 9 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
MODEL = "gpt-mock"
READY_SECONDS = 60.0
STOP_SECONDS = 10.0
RECONCILE_SECONDS = 120.0
LOG_TAIL_CHARS = 4000
PAGE_SIZE = 500


@dataclass(frozen=True)
class Command:
    """A server to start: its command line, environment, port and readiness path."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str]
    port: int
    ready_path: str


@dataclass(frozen=True)
class Server:
    """A started server process and where it listens."""

    name: str
    url: str
    process: asyncio.subprocess.Process
    log: Path

    def log_tail(self) -> str:
        """The end of what the process printed, for failure messages."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-LOG_TAIL_CHARS:]


@dataclass(frozen=True)
class Account:
    """A provisioned user with a key, on a plan allowing MODEL, with one token limit."""

    user_id: int
    key: str
    limit_id: int


@dataclass(frozen=True)
class Reply:
    """How one chat request ended, as the client saw it."""

    status: int
    error_code: str | None
    total_tokens: int | None
    done: bool
    text: str


async def gateway_settings(
    *,
    database_url: str,
    ledger: Literal["sql", "redis"],
    upstream_total_timeout: float = 60.0,
    ledger_sweep_interval: float = 5.0,
) -> Settings:
    """Settings of the gateways under test; a Redis ledger gets the tests' own Redis database."""
    redis_url = None
    if ledger == "redis":
        redis_url = await _emptied_redis_database()
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        ledger=ledger,
        master_key=SecretStr(MASTER_KEY),
        secret_keys=SecretStr(SECRET_KEY),
        log_level="warning",
        default_locale="en",
        upstream_total_timeout=upstream_total_timeout,
        ledger_sweep_interval=ledger_sweep_interval,
    )


async def _emptied_redis_database() -> str:
    server = os.environ.get(REDIS_ENV)
    if not server:
        pytest.skip(f"{REDIS_ENV} is not set")
    url = urlsplit(server)._replace(path=f"/{REDIS_DB}").geturl()
    client = aioredis.Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return url


def environment(settings: Settings) -> dict[str, str]:
    """The environment that makes a ``tokengate`` process read exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENGATE_")}
    for name, value in settings:
        if value is None:
            continue
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        env[f"TOKENGATE_{name.upper()}"] = text
    return env


def mock_command(*, tokens_per_second: float, completion_tokens: int) -> Command:
    """``tokengate mock-provider`` on a free port."""
    port = free_port()
    argv = (
        *CLI,
        "mock-provider",
        "--port",
        str(port),
        "--tokens-per-second",
        str(tokens_per_second),
        "--completion-tokens",
        str(completion_tokens),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENGATE_")}
    return Command("mock", argv, env, port, "/_mock/config")


def gateway_command(settings: Settings, *, name: str = "gateway") -> Command:
    """``tokengate serve --workers 1`` on a free port, configured by ``settings``."""
    port = free_port()
    argv = (*CLI, "serve", "--port", str(port), "--workers", "1")
    return Command(name, argv, environment(settings), port, "/healthz")


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def running(*commands: Command, logs: Path) -> AsyncIterator[list[Server]]:
    """Start the commands together, wait until each answers, and stop them all on the way out."""
    servers: list[Server] = []
    try:
        for command in commands:
            servers.append(await _start(command, logs))
        # they boot side by side: waiting for one after the other costs no extra time
        for server, command in zip(servers, commands, strict=True):
            await _wait_ready(server, command.ready_path)
        yield servers
    finally:
        await asyncio.gather(*(stop(server) for server in servers))


async def _start(command: Command, logs: Path) -> Server:
    log = logs / f"{command.name}.log"
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *command.argv, env=command.env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    return Server(command.name, f"http://{LOOPBACK}:{command.port}", process, log)


async def _wait_ready(server: Server, path: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_SECONDS
    probe_timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=probe_timeout) as http:
        while True:
            if server.process.returncode is not None:
                raise AssertionError(
                    f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
                )
            try:
                async with http.get(f"{server.url}{path}") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if loop.time() > deadline:
                raise AssertionError(f"{server.name} never became ready:\n{server.log_tail()}")
            await asyncio.sleep(0.1)


async def stop(server: Server) -> None:
    """Stop a server that is still running: SIGTERM, then SIGKILL if it lingers."""
    if server.process.returncode is not None:
        return
    server.process.terminate()
    try:
        await asyncio.wait_for(server.process.wait(), STOP_SECONDS)
    except TimeoutError:
        server.process.kill()
        await server.process.wait()


async def crash(server: Server) -> None:
    """SIGKILL a server, as a power cut or the OOM killer would, and reap it."""
    server.process.send_signal(signal.SIGKILL)
    await server.process.wait()


async def configure_mock(http: aiohttp.ClientSession, mock: Server, **changes: object) -> None:
    """Change some of the running mock provider's config fields."""
    async with http.put(f"{mock.url}/_mock/config", json=changes) as response:
        assert response.status == 200, await response.text()


async def admin_post(
    http: aiohttp.ClientSession,
    gateway: Server,
    path: str,
    body: dict[str, Any],
) -> dict[str, Any]:
    """Create something through the admin API (it commits before it answers)."""
    async with http.post(f"{gateway.url}/api/v1{path}", json=body, headers=ADMIN) as response:
        text = await response.text()
    assert response.status == 201, f"POST {path}: {response.status} {text}"
    created: dict[str, Any] = orjson.loads(text)
    return created


async def admin_get(
    http: aiohttp.ClientSession, gateway: Server, path: str, params: dict[str, str] | None = None
) -> dict[str, Any]:
    """Read something from the admin API (a missing row reads as ``{}``)."""
    url = f"{gateway.url}/api/v1{path}"
    async with http.get(url, params=params, headers=ADMIN) as response:
        text = await response.text()
    if response.status == 404:
        return {}
    assert response.status == 200, f"GET {path}: {response.status} {text}"
    found: dict[str, Any] = orjson.loads(text)
    return found


async def provision(
    http: aiohttp.ClientSession,
    gateway: Server,
    *,
    mock: Server,
    monthly_tokens: int,
    limit_tokens: int,
) -> Account:
    """A tenant whose plan allows MODEL (served by the mock), a user, a key, and a user limit."""
    tag = uuid.uuid4().hex[:8]
    model = {
        "name": MODEL,
        "provider": "openai_compatible",
        "upstream_model": MODEL,
        "base_url": f"{mock.url}/v1",
        "api_key": "sk-mock-upstream",
        "input_price_per_mtok": "0.5",
        "output_price_per_mtok": "1.5",
    }
    await admin_post(http, gateway, "/models", model)
    plan = {
        "name": f"quota-e2e-{tag}",
        "monthly_token_limit": monthly_tokens,
        "allowed_models": [MODEL],
        "max_users": 10,
    }
    await admin_post(http, gateway, "/plans", plan)
    tenant = await admin_post(
        http,
        gateway,
        "/tenants",
        {"name": f"Tenant {tag}", "plan": plan["name"], "timezone": "UTC", "locale": "en"},
    )
    user = await admin_post(
        http,
        gateway,
        "/users",
        {"tenant_id": tenant["id"], "email": f"quota-{tag}@example.com", "name": "Quota Tester"},
    )
    key = await admin_post(http, gateway, "/keys", {"user_id": user["id"]})
    limit = {
        "scope": "user",
        "scope_id": user["id"],
        "metric": "tokens",
        "window": "month",
        "amount": limit_tokens,
        "mode": "block",
    }
    created = await admin_post(http, gateway, "/limits", limit)
    return Account(user["id"], key["key"], created["id"])


async def counters(
    http: aiohttp.ClientSession, gateway: Server, account: Account
) -> list[dict[str, Any]]:
    """The user's counters (plan allowance first, then limits) as the ledger holds them now."""
    found = await admin_get(
        http, gateway, "/usage/current", {"scope": "user", "id": str(account.user_id)}
    )
    items: list[dict[str, Any]] = found["items"]
    return items


def limit_counter(items: Sequence[dict[str, Any]], account: Account) -> dict[str, Any]:
    """The counter of the account's own limit among ``counters``."""
    return next(item for item in items if item["limit_id"] == account.limit_id)


async def usage_events(
    http: aiohttp.ClientSession, gateway: Server, account: Account
) -> list[dict[str, Any]]:
    """Every usage event of the user, oldest first."""
    events: list[dict[str, Any]] = []
    params = {"user_id": str(account.user_id), "limit": str(PAGE_SIZE)}
    while True:
        page = await admin_get(http, gateway, "/usage", params)
        events.extend(page["items"])
        if page["next"] is None:
            return events
        params["cursor"] = page["next"]


async def chat(
    http: aiohttp.ClientSession,
    gateway: Server,
    account: Account,
    *,
    messages: list[dict[str, str]],
    max_tokens: int,
    stream: bool,
) -> Reply:
    """Send one chat completion and read it to the end (a stream asks for its usage)."""
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": messages,
        "max_tokens": max_tokens,
        "stream": stream,
    }
    if stream:
        body["stream_options"] = {"include_usage": True}
    headers = {"Authorization": f"Bearer {account.key}"}
    url = f"{gateway.url}/v1/chat/completions"
    async with http.post(url, json=body, headers=headers) as response:
        text = await response.text()
    if response.status != 200:
        return Reply(response.status, _error_code(text), None, False, text)
    if not stream:
        return Reply(200, None, orjson.loads(text)["usage"]["total_tokens"], True, text)
    data = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
    usage = [event["usage"] for event in _events(data) if event.get("usage")]
    total = usage[-1]["total_tokens"] if usage else None
    return Reply(200, None, total, data[-1:] == ["[DONE]"], text)


def _error_code(text: str) -> str | None:
    try:
        error = orjson.loads(text).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return error.get("code") if isinstance(error, dict) else None


def _events(data: list[str]) -> list[dict[str, Any]]:
    return [orjson.loads(item) for item in data if item.startswith("{")]


async def reconcile(settings: Settings) -> tuple[int, str]:
    """Run ``tokengate ledger reconcile`` with these settings; return its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "ledger",
        "reconcile",
        env=environment(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), RECONCILE_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")
