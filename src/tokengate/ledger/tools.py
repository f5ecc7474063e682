"""Operator commands on the ledger, run outside the server (``tokengate ledger …``)."""

from __future__ import annotations

from collections.abc import Callable

from tokengate.db import create_engine, create_session_factory, utcnow
from tokengate.ledger.setup import open_ledger
from tokengate.quotas.reconcile import reconcile
from tokengate.settings import Settings


async def run_reconcile(settings: Settings, *, repair: bool, echo: Callable[[str], None]) -> int:
    """Print each counter's drift against the usage events; return the total absolute drift."""
    engine = create_engine(settings.database_url)
    try:
        async with open_ledger(settings, engine) as ledger:
            rows = await reconcile(
                sessions=create_session_factory(engine), ledger=ledger, now=utcnow(), repair=repair
            )
    finally:
        await engine.dispose()
    header = f"{'limit':>8} {'scope':<10} {'metric':<8} {'window':<9}"
    echo(f"{header} {'counter':>14} {'events':>14} drift")
    total = 0
    for row in rows:
        check = row.check
        name = "plan" if check.source == "plan" else str(check.check.limit_id)
        scope = f"{check.scope}:{check.scope_id}"
        echo(
            f"{name:>8} {scope:<10} {check.check.metric:<8} {check.check.window:<9} "
            f"{row.counter:>14,} {row.events:>14,} {row.drift}"
        )
        total += abs(row.drift)
    echo(f"{len(rows)} counters, total drift {total}")
    return total
