"""The processes under test: the mock provider and the gateway, started, provisioned and watched."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

LOOPBACK = "127.0.0.1"
CLI = [sys.executable, "-c", "from tokengate.cli import main; main()"]
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
LOG_TAIL_BYTES = 2000
MODEL = "gpt-4o-mini"
# a PostgreSQL URL (postgresql+asyncpg://…/<database>) for the gateway's records, else SQLite
RECORDS_ENV = "TOKENGATE_BENCH_DATABASE_URL"


@dataclass(frozen=True)
class Stack:
    """The running mock and gateway: their processes, addresses and admin key."""

    mock: subprocess.Popen[bytes]
    gateway: subprocess.Popen[bytes]
    mock_url: str
    gateway_url: str
    master_key: str
    workdir: Path


@contextmanager
def started_stack(*, workdir: Path, workers: int) -> Iterator[Stack]:
    """Start the mock and a migrated gateway on free ports; stop both however the block ends.

    The gateway's records go to a fresh SQLite file, or, when ``RECORDS_ENV`` names a
    PostgreSQL database, to that database, dropped and created anew for the run.
    """
    mock_port, gateway_port = free_port(), free_port()
    master_key = secrets.token_urlsafe(32)
    records = os.environ.get(RECORDS_ENV) or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    if records.startswith("postgresql"):
        asyncio.run(_recreate_database(records))
    env = {
        **os.environ,
        "TOKENGATE_DATABASE_URL": records,
        "TOKENGATE_MASTER_KEY": master_key,
        "TOKENGATE_SECRET_KEYS": secrets.token_urlsafe(32),
        "TOKENGATE_HOST": LOOPBACK,
        "TOKENGATE_PORT": str(gateway_port),
        "TOKENGATE_WORKERS": str(workers),
        "TOKENGATE_LOG_LEVEL": "warning",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # the request recorder is a test aid: it would only add work to the mock's side
        mock_cmd = [sys.executable, "-m", "tokengate.mockprovider", "--port", str(mock_port)]
        processes.append(_spawn([*mock_cmd, "--no-record"], workdir / "mock.log"))
        _migrate(env, workdir / "migrate.log")
        processes.append(_spawn([*CLI, "serve"], workdir / "gateway.log", env))
        yield Stack(
            mock=processes[0],
            gateway=processes[1],
            mock_url=f"http://{LOOPBACK}:{mock_port}/v1",
            gateway_url=f"http://{LOOPBACK}:{gateway_port}",
            master_key=master_key,
            workdir=workdir,
        )
    finally:
        _stop(processes)


async def wait_until_ready(stack: Stack) -> None:
    """Wait until the mock lists its models and the gateway answers its health check."""
    checks = [
        (stack.mock, f"{stack.mock_url}/models", stack.workdir / "mock.log"),
        (stack.gateway, f"{stack.gateway_url}/healthz", stack.workdir / "gateway.log"),
    ]
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    for process, url, log in checks:
        await wait_for_url(process, url, log=log, deadline=deadline)


async def wait_for_url(
    process: subprocess.Popen[bytes], url: str, *, log: Path, deadline: float
) -> None:
    """Wait until ``url`` answers 200; fail with the log's end if the process dies or
    ``deadline`` (``time.monotonic``) passes."""
    async with aiohttp.ClientSession() as http:
        while not await _answers(http, url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} never became ready:\n{_tail(log)}")
            await asyncio.sleep(0.05)


async def provision(stack: Stack) -> str:
    """Create a plan, tenant, user, model (served by the mock) and key; return the key."""
    base = f"{stack.gateway_url}/api/v1"
    headers = {"Authorization": f"Bearer {stack.master_key}"}
    async with aiohttp.ClientSession(headers=headers) as http:

        async def create(path: str, body: dict[str, object]) -> dict[str, object]:
            async with http.post(f"{base}/{path}", json=body) as response:
                if response.status != 201:
                    detail = (await response.text())[:LOG_TAIL_BYTES]
                    raise RuntimeError(f"POST /api/v1/{path}: HTTP {response.status}: {detail}")
                created: dict[str, object] = await response.json()
                return created

        limit = 10**15
        plan = {"monthly_token_limit": limit, "max_users": 10, "allowed_models": [MODEL]}
        await create("plans", {"name": "bench", **plan})
        tenant = await create("tenants", {"name": "Bench", "plan": "bench"})
        user = await create(
            "users", {"tenant_id": tenant["id"], "email": "bench@example.com", "name": "Bench"}
        )
        await create(
            "models",
            {
                "name": MODEL,
                "provider": "openai_compatible",
                "upstream_model": MODEL,
                "base_url": stack.mock_url,
                "api_key": "sk-mock-" + secrets.token_hex(16),
                "input_price_per_mtok": "0.15",
                "output_price_per_mtok": "0.60",
            },
        )
        issued = await create("keys", {"user_id": user["id"]})
    return str(issued["key"])


def log_tail(stack: Stack, name: str) -> str:
    """Return the end of the mock's or the gateway's log."""
    return _tail(stack.workdir / f"{name}.log")


def process_tree(root: int) -> list[int]:
    """Return ``root`` and all its descendants, found by walking /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """Return the user + system CPU time the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            # utime and stime: fields 14 and 15 of /proc/<pid>/stat, counted after "(comm)"
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """Return the CPU time every process on the machine has used so far (all cores, from boot)."""
    with Path("/proc/stat").open() as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is already inside user)
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def rss_bytes(pids: list[int]) -> int:
    """Return the summed resident memory (VmRSS) of the processes."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _stat_fields(pid: int) -> list[str] | None:
    """Return the fields of /proc/<pid>/stat after the command name, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return raw[raw.rindex(b")") + 2 :].decode().split()


@contextmanager
def started_process(
    command: list[str], *, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server in its own process group, output to ``log``; stop the group on the way out."""
    process = _spawn(command, log, env)
    try:
        yield process
    finally:
        _stop([process])


def _spawn(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        # its own session: Ctrl-C reaches only us, and we stop the whole group (workers too)
        return subprocess.Popen(  # noqa: S603
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Ask every process group to stop, wait, and kill the groups that do not stop in time."""
    _signal_groups(processes, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_groups([process], signal.SIGKILL)
            process.wait()


def _signal_groups(processes: list[subprocess.Popen[bytes]], sig: signal.Signals) -> None:
    for process in processes:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            continue


async def _recreate_database(url: str) -> None:
    """Drop and create the database ``url`` names, through the server's ``postgres`` database."""
    target = make_url(url)
    if not target.database or not target.database.replace("_", "").isalnum():
        raise RuntimeError(f"{RECORDS_ENV} must name a database (letters, digits, _): {url}")
    admin = target.set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await connection.close()


def _migrate(env: dict[str, str], log: Path) -> None:
    with log.open("wb") as out:
        result = subprocess.run(  # noqa: S603
            [*CLI, "migrate"], stdout=out, stderr=subprocess.STDOUT, env=env, check=False
        )
    if result.returncode != 0:
        raise RuntimeError(f"tokengate migrate failed:\n{_tail(log)}")


async def _answers(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=1)) as response:
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(log: Path) -> str:
    return log.read_bytes()[-LOG_TAIL_BYTES:].decode(errors="replace")
