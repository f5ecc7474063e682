"""Shared by the browser sign-in tests: a browser-like client, forms, cookies, live servers."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI

from tests.auth.factories import Account
from tests.conftest import MASTER_KEY, SECRET_KEY
from tokengate.auth.sessions import COOKIE_NAME, open_session
from tokengate.db import transaction
from tokengate.runtime import Runtime
from tokengate.settings import Settings

# https: the session cookie is Secure, and a browser (like httpx) keeps it off plain http
BASE_URL = "https://tokengate.test"
_HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>[^"]+)" value="(?P<value>[^"]*)">')


def signin_settings(
    database_url: str, *, providers: list[dict[str, str]] | None = None, **overrides: Any
) -> Settings:
    """Test settings with sign-in providers (TOKENGATE_OIDC_PROVIDERS) and overrides."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "master_key": MASTER_KEY,
        "secret_keys": SECRET_KEY,
        "default_locale": "en",
        "oidc_providers": json.dumps(providers or []),
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies like a browser and does not follow redirects."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


def hidden_field(html: str, name: str) -> str:
    """The value of a form's hidden input."""
    for match in _HIDDEN.finditer(html):
        if match["name"] == name:
            return match["value"]
    raise AssertionError(f"no hidden field {name!r} in the page")


def cookie_header(response: httpx.Response, name: str) -> str:
    """The Set-Cookie header of one cookie (flags included)."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"the response sets no {name} cookie")


async def password_login(
    client: httpx.AsyncClient, account: Account, *, next_path: str = "/", password: str = ""
) -> httpx.Response:
    """Fill in and send the login form, as a person would."""
    page = await client.get("/login")
    assert page.status_code == 200, page.text
    return await client.post(
        "/login",
        data={
            "email": account.email,
            "password": password or account.password,
            "csrf_token": hidden_field(page.text, "csrf_token"),
            "next": next_path,
        },
    )


async def stored_session(
    runtime: Runtime, user_id: int, *, now: datetime, stage: str = "active"
) -> str:
    """A browser session opened at ``now`` (in the past, to test timeouts); its cookie token."""
    async with transaction(runtime.sessions) as session:
        token, _ = await open_session(
            session,
            user_id=user_id,
            stage=stage,
            method="password",
            ip=None,
            user_agent=None,
            settings=runtime.settings,
            now=now,
        )
    return token


def use_session(client: httpx.AsyncClient, token: str) -> None:
    """Put a session token in the client's cookie jar, as the browser had it."""
    client.cookies.set(COOKIE_NAME, token, domain="tokengate.test", path="/")


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def oidc_provider_process() -> Iterator[str]:
    """The oidc-provider-mock package serving on a loopback port; yields its issuer URL."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration", process)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OIDC provider exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the OIDC provider did not answer at {url}")
