"""Creating the first system administrator (``tokengate create-admin``)."""

from __future__ import annotations

from tokengate.db import create_engine, create_session_factory, transaction
from tokengate.settings import Settings
from tokengate.tenancy import service as tenancy


async def create_system_admin(*, settings: Settings, email: str, name: str, password: str) -> int:
    """Create a system administrator, or reset the password of an existing one."""
    engine = create_engine(settings.database_url)
    try:
        async with transaction(create_session_factory(engine)) as session:
            admin = await tenancy.ensure_system_admin(
                session=session, email=email, name=name, password=password
            )
            return admin.id
    finally:
        await engine.dispose()
