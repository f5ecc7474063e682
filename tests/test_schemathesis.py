"""Property-based fuzzing of the admin API from its own OpenAPI document: no input, however
odd, may make the server fail (5xx). The app runs in its own process on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tokengate.app import create_app
from tokengate.settings import Settings

MASTER_KEY = "schemathesis-master-key-0123456789abcdef"
SECRET_KEY = "schemathesis-secret-key-0123456789abcdef"
HEADERS = {"Authorization": f"Bearer {MASTER_KEY}"}

# the document as the app serves it at /openapi.json (built without starting the app)
schema = schemathesis.openapi.from_dict(
    create_app(Settings(master_key=MASTER_KEY, secret_keys=SECRET_KEY)).openapi()
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("schemathesis") / "tokengate.db"
    env = {
        **os.environ,
        "TOKENGATE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "TOKENGATE_MASTER_KEY": MASTER_KEY,
        "TOKENGATE_SECRET_KEYS": SECRET_KEY,
        "TOKENGATE_LOG_LEVEL": "error",
    }
    tokengate = Path(sys.executable).with_name("tokengate")
    subprocess.run([tokengate, "migrate"], env=env, check=True, capture_output=True)
    port = _free_port()
    # a file, not a pipe: a pipe nobody reads fills up and blocks the server
    errors = (tmp_path_factory.mktemp("schemathesis-log") / "stderr.log").open("w+b")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "tokengate.asgi:create",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
        _seed(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        errors.seek(0)
        logged = errors.read().decode(errors="replace")
        errors.close()
        # the catch-all handler logs every unexpected error: none may have happened
        assert "unexpected error" not in logged, logged[-4000:]


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90  # a loaded CI machine starts it slowly
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the app did not start")


def _seed(url: str) -> None:
    # a few real objects, so generated small ids hit something as well as nothing
    with httpx.Client(base_url=url, headers=HEADERS) as http:
        http.post(
            "/api/v1/plans",
            json={
                "name": "Basic",
                "monthly_token_limit": 1000,
                "allowed_models": ["C1"],
                "max_users": 20,
            },
        )
        for name in ("서울경제신문", "Daily"):
            tenant = http.post("/api/v1/tenants", json={"name": name, "plan": "Basic"}).json()
            user = http.post(
                "/api/v1/users",
                json={"tenant_id": tenant["id"], "email": f"a@{tenant['id']}.example", "name": "A"},
            ).json()
            http.post("/api/v1/teams", json={"tenant_id": tenant["id"], "name": "정치부"})
            http.post("/api/v1/keys", json={"user_id": user["id"]})


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_the_server_fail(case: schemathesis.Case[Any], base_url: str) -> None:
    response = case.call(base_url=base_url, headers=HEADERS, timeout=30)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
