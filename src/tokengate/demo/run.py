"""``tokengate demo``: migrate a SQLite database, load the seed's demo and serve it."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from tokengate.app import create_app
from tokengate.crypto import SecretBox
from tokengate.db import create_engine, create_session_factory, transaction, utcnow
from tokengate.demo.loader import load_demo
from tokengate.demo.schemas import DemoSummary
from tokengate.ledger.setup import open_ledger
from tokengate.migrate import upgrade_database
from tokengate.mockprovider import create_mock_app
from tokengate.quotas.reconcile import reconcile
from tokengate.settings import Settings
from tokengate.tenancy import service as tenancy

DEMO_DATABASE = "tokengate-demo.db"
DEMO_ADMIN = "admin@tokengate.demo"
# Demo mode only: a fixed key keeps a --keep database readable across runs.
DEMO_SECRET_KEY = "tokengate-demo-only-secret-key-never-use-in-production"  # noqa: S105
MOCK_MOUNT = "/mock"


def demo_settings(*, host: str | None, port: int | None) -> Settings:
    """Return the demo's settings: the environment, completed with demo defaults."""
    settings = Settings()
    update: dict[str, object] = {"demo": True}
    if host:
        update["host"] = host
    if port:
        update["port"] = port
    if "TOKENGATE_DATABASE_URL" not in os.environ:
        update["database_url"] = f"sqlite+aiosqlite:///./{DEMO_DATABASE}"
    if settings.master_key is None:
        update["master_key"] = SecretStr("tg-admin-" + secrets.token_urlsafe(24))
    if settings.secret_keys is None:
        update["secret_keys"] = SecretStr(DEMO_SECRET_KEY)
    if settings.demo_password is None:
        update["demo_password"] = SecretStr(secrets.token_urlsafe(12))
    return settings.model_copy(update=update)


async def prepare_demo(settings: Settings, *, mock_base_url: str) -> DemoSummary:
    """Load the demo data and its system administrator into the settings' database."""
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    try:
        summary = await load_demo(
            sessions=sessions,
            box=SecretBox(settings.secret_key_list()),
            mock_base_url=mock_base_url,
            now=utcnow(),
        )
        # the ledger's counters start from the history the demo just wrote
        async with open_ledger(settings, engine) as ledger:
            await reconcile(sessions=sessions, ledger=ledger, now=utcnow(), repair=True)
        password = settings.demo_password.get_secret_value() if settings.demo_password else ""
        async with transaction(sessions) as session:
            await tenancy.ensure_system_admin(
                session=session, email=DEMO_ADMIN, name="데모 시스템 관리자", password=password
            )
            # every demo user signs in with the same password (the chat page, "my usage")
            for user in summary.users:
                await tenancy.set_password(session=session, user_id=user.id, password=password)
        return summary
    finally:
        await engine.dispose()


def build_demo_app(settings: Settings) -> FastAPI:
    """The gateway with the mock provider mounted in the same process."""
    app = create_app(settings)
    app.mount(MOCK_MOUNT, create_mock_app())
    return app


def run_demo(*, host: str | None, port: int | None, keep: bool) -> None:
    """Prepare and serve the demo until interrupted."""
    settings = demo_settings(host=host, port=port)
    database = Path(DEMO_DATABASE)
    if not keep and settings.database_url.endswith(f"/./{DEMO_DATABASE}"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    upgrade_database(settings.database_url)
    loopback = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    base = f"http://{loopback}:{settings.port}"
    summary = asyncio.run(prepare_demo(settings, mock_base_url=f"{base}{MOCK_MOUNT}/v1"))
    print(render_banner(settings, summary, base))  # noqa: T201
    uvicorn.run(
        build_demo_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
    )


def render_banner(settings: Settings, summary: DemoSummary, base: str) -> str:
    """The text the demo prints: where to go, how to sign in, the keys."""
    master = settings.master_key.get_secret_value() if settings.master_key else ""
    password = settings.demo_password.get_secret_value() if settings.demo_password else ""
    lines = [
        "",
        "tokengate demo is running",
        f"  dashboard      {base}/",
        f"  API docs       {base}/docs",
        f"  OpenAI base    {base}/v1",
        f"  admin sign-in  {DEMO_ADMIN} / {password}",
        "  users sign in  with their e-mail below and the same password",
        f"  master key     {master}   (Authorization: Bearer … on /api/v1)",
        f"  tenants        {len(summary.tenants)}, users {len(summary.users)}",
        "",
        "  virtual keys (model C1; Enterprise also C2 and C7):",
    ]
    for user in summary.users:
        share = f"{user.usage_percent:>3}%"
        lines.append(f"    {user.tenant:<8} {user.name:<6} {share}  {user.email:<28} {user.key}")
    lines.append("")
    return "\n".join(lines)
