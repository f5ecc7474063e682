from __future__ import annotations

from tests.conftest import run_sync
from tokengate.migrate import check_database


def test_migrations_match_the_models_on_every_backend(any_database_url: str) -> None:
    # `alembic check`: the migrated schema and the SQLAlchemy models agree
    run_sync(lambda: check_database(any_database_url))
