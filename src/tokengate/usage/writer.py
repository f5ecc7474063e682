"""Group commits of usage events, off the request path but never lost.

A request hands its event to ``UsageWriter.write`` and waits until the batch holding it is
committed; only then does the gateway complete the response (the last byte of a JSON answer,
the ``[DONE]`` of a stream). The writer commits whatever has queued up in one transaction: one
event when traffic is light (no added wait), hundreds when it is heavy. A failed batch is retried
with backoff; when every retry fails the waiting requests fail too — an event is never dropped
while its request is reported as a success.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tokengate.db import transaction
from tokengate.errors import UsageNotRecorded
from tokengate.usage.schemas import UsageRecord
from tokengate.usage.service import record_usages

MAX_BATCH = 500
RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0)
log = structlog.get_logger()


class UsageWriter:
    """Writes usage events in batches; ``write`` returns once the event is committed."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._sessions = sessions
        self._delays = tuple(retry_delays)
        self._queue: list[tuple[UsageRecord, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        """Start the background writer."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        while self._queue:
            await self._flush()

    async def write(self, record: UsageRecord) -> None:
        """Queue an event and wait until it is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((record, done))
        self._wakeup.set()
        if self._task is None:
            await self._flush()
        await asyncio.shield(done)

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                await self._flush()

    async def _flush(self) -> None:
        batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        records = [record for record, _ in batch]
        for attempt, delay in enumerate((*self._delays, None)):
            try:
                async with transaction(self._sessions) as session:
                    await record_usages(session=session, records=records)
            except (SQLAlchemyError, OSError) as exc:
                log.warning(
                    "usage batch failed", attempt=attempt + 1, size=len(batch), error=str(exc)
                )
                if delay is None:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(UsageNotRecorded())
                    return
                await asyncio.sleep(delay)
            else:
                self.batches += 1
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
                return
