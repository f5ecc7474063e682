"""Re-encrypting every stored secret with the current (first) key of TOKENGATE_SECRET_KEYS.

Rotating the key: put the new key first in TOKENGATE_SECRET_KEYS and keep the old one after it,
restart, run ``tokengate secrets rotate``, then remove the old key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.models import MfaSecret
from tokengate.catalog import store
from tokengate.catalog.models import Deployment, Model
from tokengate.crypto import SecretBox
from tokengate.db import Base, create_engine, create_session_factory, transaction
from tokengate.errors import ConfigError
from tokengate.settings import Settings

# every encrypted column: (table, column, the primary key that names a row in errors)
SECRET_COLUMNS: tuple[tuple[type[Base], str, str], ...] = (
    (Model, "api_key_encrypted", "id"),
    (Deployment, "api_key_encrypted", "id"),
    (MfaSecret, "secret_encrypted", "user_id"),
)


@dataclass(frozen=True)
class RotationReport:
    """How many secrets were re-encrypted, and how many used the current key already."""

    rotated: int
    current: int


async def rotate_secrets(*, session: AsyncSession, keys: list[str]) -> RotationReport:
    """Re-encrypt every secret not yet under the first key. A secret no key decrypts raises
    ConfigError naming its row before anything is changed."""
    box = SecretBox(keys)
    newest = SecretBox(keys[:1])
    pending: list[tuple[Base, str, str]] = []
    current = 0
    for entity, column, key in SECRET_COLUMNS:
        for row in await store.list_with_secret(session, entity=entity, column=column):
            token: str = getattr(row, column)
            if _opens(newest, token):
                current += 1
            elif _opens(box, token):
                pending.append((row, column, box.rotate(token)))
            else:
                table = entity.__tablename__
                raise ConfigError(
                    f"{table} row {key}={getattr(row, key)}: its {column} cannot be decrypted "
                    "with any key of TOKENGATE_SECRET_KEYS; nothing was re-encrypted"
                )
    for row, column, token in pending:
        setattr(row, column, token)
    await session.flush()
    return RotationReport(rotated=len(pending), current=current)


def _opens(box: SecretBox, token: str) -> bool:
    try:
        box.decrypt(token)
    except ConfigError:
        return False
    return True


async def run_rotation(settings: Settings) -> RotationReport:
    """Rotate every secret of the configured database in one transaction."""
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_session_factory(engine)) as session:
            return await rotate_secrets(session=session, keys=settings.secret_key_list())
    finally:
        await engine.dispose()
