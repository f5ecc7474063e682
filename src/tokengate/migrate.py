"""Apply and check the database schema with Alembic, from code (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    """Return an Alembic configuration for the packaged migrations and this database."""
    config = Config()
    config.set_main_option("script_location", "tokengate:migrations")
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Migrate the database to the given revision (latest by default)."""
    command.upgrade(alembic_config(database_url), revision)


def check_database(database_url: str) -> None:
    """Raise when the models and the migrated schema disagree (``alembic check``)."""
    command.check(alembic_config(database_url))
