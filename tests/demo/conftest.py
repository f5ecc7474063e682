from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from tests.demo.factories import MOCK_BASE_URL, LoadedDemo, demo_box, migrated_engine
from tokengate.db import create_session_factory
from tokengate.demo import load_demo

# mid-month on a weekday afternoon in Seoul
MID_MONTH = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
# 2025-01-01 00:05 in Seoul: a new month and year there, still 2024-12-31 in UTC
SEOUL_NEW_YEAR = datetime(2024, 12, 31, 15, 5, tzinfo=UTC)
# noon of a leap day; the 90 days reach back into the previous year
LEAP_DAY = datetime(2024, 2, 29, 3, 0, tzinfo=UTC)
NOWS = {"mid-month": MID_MONTH, "seoul-new-year": SEOUL_NEW_YEAR, "leap-day": LEAP_DAY}


@pytest_asyncio.fixture(scope="package", loop_scope="package", params=list(NOWS), ids=list(NOWS))
async def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LoadedDemo]:
    """The demo loaded once per tested now, shared by the package's read-only tests."""
    now = NOWS[request.param]
    engine = await migrated_engine(tmp_path_factory.mktemp("demo") / "demo.db")
    sessions = create_session_factory(engine)
    box = demo_box()
    try:
        first = await load_demo(sessions=sessions, box=box, mock_base_url=MOCK_BASE_URL, now=now)
        second = await load_demo(sessions=sessions, box=box, mock_base_url=MOCK_BASE_URL, now=now)
        yield LoadedDemo(now=now, sessions=sessions, first=first, second=second)
    finally:
        await engine.dispose()
