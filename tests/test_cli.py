from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import run_sync
from tokengate.cli import cli

runner = CliRunner()


def test_serve_refuses_placeholder_secrets_and_names_them() -> None:
    result = runner.invoke(
        cli, ["serve"], env={"TOKENGATE_MASTER_KEY": "changeme", "TOKENGATE_SECRET_KEYS": ""}
    )
    assert result.exit_code == 2
    assert "TOKENGATE_MASTER_KEY" in result.output and "TOKENGATE_SECRET_KEYS" in result.output


def test_migrate_then_create_admin(tmp_path: Path) -> None:
    env = {"TOKENGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    migrated = run_sync(lambda: runner.invoke(cli, ["migrate"], env=env))
    assert migrated.exit_code == 0, migrated.output
    created = run_sync(
        lambda: runner.invoke(
            cli,
            ["create-admin", "--email", "root@example.com", "--password", "a long enough password"],
            env=env,
        )
    )
    assert created.exit_code == 0, created.output
    assert "root@example.com is ready" in created.output
    refused = run_sync(
        lambda: runner.invoke(
            cli, ["create-admin", "--email", "bad", "--password", "a long enough password"], env=env
        )
    )
    assert refused.exit_code == 2 and "invalid e-mail" in refused.output


@pytest.mark.parametrize("command", ["serve", "demo", "migrate", "create-admin", "mock-provider"])
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
