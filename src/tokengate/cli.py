"""The ``tokengate`` command: serve, demo, migrate, create-admin, mock-provider, ledger, secrets."""

from __future__ import annotations

import asyncio
import getpass
from typing import Annotated

import typer
import uvicorn

from tokengate.errors import ConfigError, TokengateError
from tokengate.settings import Settings

cli = typer.Typer(help="tokengate: a self-hosted LLM usage-control gateway.", no_args_is_help=True)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to bind (TOKENGATE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (TOKENGATE_PORT)")] = None,
    workers: Annotated[
        int | None, typer.Option(help="worker processes (TOKENGATE_WORKERS)")
    ] = None,
) -> None:
    """Serve the gateway, the admin API and the dashboard."""
    settings = Settings()
    try:
        settings.check_secrets()
    except ConfigError as exc:
        typer.echo(f"tokengate: refusing to start: {exc}", err=True)
        raise typer.Exit(2) from exc
    uvicorn.run(
        "tokengate.asgi:create",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


@cli.command()
def migrate() -> None:
    """Apply the database migrations (TOKENGATE_DATABASE_URL)."""
    from tokengate.migrate import upgrade_database

    upgrade_database(Settings().database_url)
    typer.echo("database is up to date")


@cli.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="the administrator's e-mail")],
    name: Annotated[str, typer.Option(help="display name")] = "Administrator",
    password: Annotated[
        str | None,
        typer.Option(help="password (asked for when omitted)", envvar="TOKENGATE_ADMIN_PASSWORD"),
    ] = None,
) -> None:
    """Create (or reset the password of) a system administrator who signs in with a password."""
    from tokengate.bootstrap import create_system_admin

    secret = password or getpass.getpass("Password: ")
    try:
        asyncio.run(
            create_system_admin(settings=Settings(), email=email, name=name, password=secret)
        )
    except TokengateError as exc:
        typer.echo(f"tokengate: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"system administrator {email} is ready")


@cli.command()
def demo(
    host: Annotated[str | None, typer.Option(help="address to bind (TOKENGATE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (TOKENGATE_PORT)")] = None,
    keep: Annotated[bool, typer.Option(help="keep an existing demo database")] = False,
) -> None:
    """Run the seed's demo: SQLite, the built-in mock provider, five newspapers."""
    from tokengate.demo.run import run_demo

    run_demo(host=host, port=port, keep=keep)


@cli.command("mock-provider")
def mock_provider(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 9000,
    latency_ms: Annotated[float, typer.Option(help="delay before the response")] = 0.0,
    ttft_ms: Annotated[float, typer.Option(help="extra delay before the first chunk")] = 0.0,
    tokens_per_second: Annotated[float, typer.Option(help="stream pace (0: no pacing)")] = 0.0,
    completion_tokens: Annotated[int, typer.Option(help="tokens generated per answer")] = 40,
    record: Annotated[bool, typer.Option(help="keep the last requests for inspection")] = True,
) -> None:
    """Serve the mock LLM provider (OpenAI and Anthropic wire formats)."""
    from tokengate.mockprovider import MockConfig, serve_mock_provider

    config = MockConfig(
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        tokens_per_second=tokens_per_second,
        completion_tokens=completion_tokens,
        record_requests=record,
    )
    serve_mock_provider(host=host, port=port, config=config)


ledger_cli = typer.Typer(help="Inspect and repair the quota ledger.", no_args_is_help=True)
cli.add_typer(ledger_cli, name="ledger")


@ledger_cli.command("reconcile")
def ledger_reconcile(
    repair: Annotated[bool, typer.Option(help="add usage the counters miss")] = False,
) -> None:
    """Compare every counter with the usage events of its window and print the drift."""
    from tokengate.ledger.tools import run_reconcile

    drift = asyncio.run(run_reconcile(Settings(), repair=repair, echo=typer.echo))
    raise typer.Exit(0 if drift == 0 else 1)


secrets_cli = typer.Typer(
    help="Manage the secrets stored encrypted with TOKENGATE_SECRET_KEYS.", no_args_is_help=True
)
cli.add_typer(secrets_cli, name="secrets")


@secrets_cli.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with the first key of TOKENGATE_SECRET_KEYS."""
    from tokengate.catalog.rotation import run_rotation

    try:
        report = asyncio.run(run_rotation(Settings()))
    except TokengateError as exc:
        typer.echo(f"tokengate: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"secrets re-encrypted: {report.rotated}; already under the current key: {report.current}"
    )


def main() -> None:
    """Run the command line."""
    cli()
