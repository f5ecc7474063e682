"""Test helpers: migrated databases, and demo engines and subjects without a database."""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tokengate.catalog.schemas import Route
from tokengate.crypto import SecretBox
from tokengate.db import create_engine
from tokengate.demo import DemoSummary
from tokengate.demo.data import MODELS, ModelSpec
from tokengate.demo.records import Engine, Subject
from tokengate.migrate import upgrade_database

MOCK_BASE_URL = "http://127.0.0.1:9/v1"


@dataclass(frozen=True)
class LoadedDemo:
    """A database with the demo loaded twice at the same now (the second run only re-keys)."""

    now: datetime
    sessions: async_sessionmaker[AsyncSession]
    first: DemoSummary
    second: DemoSummary


def demo_box() -> SecretBox:
    """Return the secret box every demo test encrypts with."""
    return SecretBox(["demo-tests-secret-key-0123456789abcdef"])


async def migrated_engine(path: Path) -> AsyncEngine:
    """Create a migrated SQLite database at path and return an engine on it."""
    url = f"sqlite+aiosqlite:///{path}"
    # upgrade_database runs its own event loop, so it must run outside this one
    await asyncio.to_thread(upgrade_database, url)
    return create_engine(url)


def make_engine(spec: ModelSpec, *, model_id: int) -> Engine:
    """Return an engine whose route carries the spec's prices in micro-units."""
    route = Route(
        model_id=model_id,
        name=spec.name,
        provider="openai_compatible",
        upstream_model=spec.upstream_model,
        base_url=MOCK_BASE_URL,
        api_key=None,
        input_price=int(spec.input_price_per_mtok * 1_000_000),
        output_price=int(spec.output_price_per_mtok * 1_000_000),
        cached_input_price=int(spec.cached_input_price_per_mtok * 1_000_000),
        cache_write_price=int(spec.input_price_per_mtok * 1_000_000),
        default_max_tokens=None,
        max_tokens_cap=None,
    )
    return Engine(spec=spec, route=route)


ENGINES = tuple(make_engine(spec, model_id=n) for n, spec in enumerate(MODELS, start=1))


def make_subject(
    email: str, *, user_id: int, limit: int, percent: int, engines: tuple[Engine, ...]
) -> Subject:
    """Return a subject of tenant 1, team 2, whose key is user_id + 100."""
    return Subject(
        email=email,
        tenant_id=1,
        team_id=2,
        user_id=user_id,
        key_id=user_id + 100,
        monthly_token_limit=limit,
        usage_percent=percent,
        engines=engines,
    )


HEAVY = make_subject("heavy@x.demo", user_id=1, limit=10_000_000, percent=95, engines=ENGINES)
LIGHT = make_subject("light@x.demo", user_id=2, limit=100_000, percent=14, engines=ENGINES[:1])
IDLE = make_subject("idle@x.demo", user_id=3, limit=1_000_000, percent=0, engines=ENGINES[:1])
SUBJECTS = [HEAVY, LIGHT, IDLE]
