"""usage read indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 11:40:00.000000

Indexes the dashboard and the admin API read millions of usage rows through (measured by
scripts/bench_dashboard.py, see docs/benchmarks.md):

- ``usage_events (tenant_id, id)`` and ``(user_id, id)``: a tenant's or a person's newest
  requests (the overview's recent requests and live stream, "my usage", ``GET /api/v1/usage``
  filtered to a tenant or user) read backwards from the index; without them the newest-first
  scan of the whole table finds nothing to stop at for someone with no recent requests;
- ``usage_hourly (team_id, hour)``: a team's usage over a period (team leaders' pages, charts
  and rankings filtered to a team) without scanning every team's rollups of the period;
- ``usage_hourly (model_id, hour)``: a model's statistics (``GET /api/v1/models/{id}/stats``,
  the model page) without scanning every model's rollups;
- ``usage_events (model_id, created_at)``, on PostgreSQL carrying ``latency_ms``, ``tenant_id``
  and ``user_id``: the same statistics' latency percentile counts and orders one model's
  requests of the period from the index alone instead of scanning every request.

On PostgreSQL they are built ``CONCURRENTLY``: the gateway keeps recording usage meanwhile (a
plain build would lock the tables' writes for as long as it takes on a large install).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES: tuple[tuple[str, str, list[str], list[str]], ...] = (
    ("ix_usage_events_tenant_newest", "usage_events", ["tenant_id", "id"], []),
    ("ix_usage_events_user_newest", "usage_events", ["user_id", "id"], []),
    ("ix_usage_hourly_team_hour", "usage_hourly", ["team_id", "hour"], []),
    ("ix_usage_hourly_model_hour", "usage_hourly", ["model_id", "hour"], []),
    (
        "ix_usage_events_model_created",
        "usage_events",
        ["model_id", "created_at"],
        ["latency_ms", "tenant_id", "user_id"],
    ),
)


def upgrade() -> None:
    # outside the migration's transaction: CREATE INDEX CONCURRENTLY cannot run inside one
    with op.get_context().autocommit_block():
        for name, table, columns, included in _INDEXES:
            op.create_index(
                name,
                table,
                columns,
                unique=False,
                postgresql_include=included,
                postgresql_concurrently=True,
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table, _, _ in reversed(_INDEXES):
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
