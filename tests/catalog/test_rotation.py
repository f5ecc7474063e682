from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import SECRET_KEY, run_sync
from tests.factories import make_member, make_model
from tokengate.auth.models import MfaSecret
from tokengate.catalog import service
from tokengate.catalog.models import Deployment, Model
from tokengate.catalog.rotation import RotationReport, rotate_secrets
from tokengate.catalog.schemas import DeploymentCreate
from tokengate.cli import cli
from tokengate.crypto import SecretBox
from tokengate.db import create_engine, create_session_factory, transaction
from tokengate.errors import ConfigError
from tokengate.runtime import Runtime

NEW_KEY = "next-secret-key-fedcba9876543210fedcba"
TOTP = "JBSWY3DPEHPK3PXP"


async def stored_tokens(runtime: Runtime) -> dict[str, str | None]:
    async with runtime.sessions() as session:
        model = await session.scalar(select(Model.api_key_encrypted))
        deployment = await session.scalar(select(Deployment.api_key_encrypted))
        mfa = await session.scalar(select(MfaSecret.secret_encrypted))
    return {"model": model, "deployment": deployment, "mfa": mfa}


async def seed(runtime: Runtime, *, deployment_box: SecretBox | None = None) -> None:
    """A model, a deployment and an MFA secret, encrypted with the current key."""
    model = await make_model(runtime, base_url="http://127.0.0.1:9/v1")
    member = await make_member(runtime)
    async with transaction(runtime.sessions) as session:
        await service.add_deployment(
            session=session,
            box=deployment_box or runtime.box,
            model_id=model.id,
            data=DeploymentCreate.model_validate(
                {
                    "upstream_model": "b",
                    "base_url": "http://127.0.0.1:10/v1",
                    "api_key": "sk-b-5678",
                }
            ),
        )
        session.add(MfaSecret(user_id=member.user.id, secret_encrypted=runtime.box.encrypt(TOTP)))


async def test_rotation_moves_every_secret_to_the_new_key_once(runtime: Runtime) -> None:
    await seed(runtime)
    async with transaction(runtime.sessions) as session:
        report = await rotate_secrets(session=session, keys=[NEW_KEY, SECRET_KEY])
    assert report == RotationReport(rotated=3, current=0)

    only_new = SecretBox([NEW_KEY])
    tokens = await stored_tokens(runtime)
    assert {name: only_new.decrypt(t or "") for name, t in tokens.items()} == {
        "model": "sk-upstream-secret-1234",
        "deployment": "sk-b-5678",
        "mfa": TOTP,
    }
    async with transaction(runtime.sessions) as session:
        again = await rotate_secrets(session=session, keys=[NEW_KEY, SECRET_KEY])
    assert again == RotationReport(rotated=0, current=3)
    assert await stored_tokens(runtime) == tokens


async def test_a_secret_no_key_opens_stops_the_rotation_and_changes_nothing(
    runtime: Runtime,
) -> None:
    await seed(runtime, deployment_box=SecretBox(["a-key-nobody-configured-0123456789"]))
    before = await stored_tokens(runtime)
    with pytest.raises(ConfigError) as refused:
        async with transaction(runtime.sessions) as session:
            await rotate_secrets(session=session, keys=[NEW_KEY, SECRET_KEY])
    assert "model_deployments row id=1" in str(refused.value)
    assert await stored_tokens(runtime) == before


def test_the_command_rotates_and_names_a_row_it_cannot_open(database_url: str) -> None:
    async def add_model() -> None:
        engine = create_engine(database_url)
        async with transaction(create_session_factory(engine)) as session:
            session.add(
                Model(
                    name="C1",
                    provider="openai",
                    upstream_model="gpt",
                    base_url="http://127.0.0.1:9/v1",
                    api_key_encrypted=SecretBox([SECRET_KEY]).encrypt("sk-old-key-1111"),
                )
            )
        await engine.dispose()

    run_sync(lambda: asyncio.run(add_model()))
    runner = CliRunner()

    def rotate(keys: str) -> tuple[int, str]:
        env = {"TOKENGATE_DATABASE_URL": database_url, "TOKENGATE_SECRET_KEYS": keys}
        result = run_sync(lambda: runner.invoke(cli, ["secrets", "rotate"], env=env))
        return result.exit_code, result.output

    assert rotate(f"{NEW_KEY},{SECRET_KEY}") == (
        0,
        "secrets re-encrypted: 1; already under the current key: 0\n",
    )
    assert rotate(NEW_KEY) == (0, "secrets re-encrypted: 0; already under the current key: 1\n")
    code, output = rotate("some-other-key-0123456789abcdef")
    assert code == 2 and "models row id=1" in output
