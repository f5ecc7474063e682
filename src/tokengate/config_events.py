"""Telling every gateway process at once that the configuration changed, through Redis pub/sub
(when Redis is configured; the epoch poll of ``config_epoch`` remains the fallback)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

CHANNEL = "tokengate:config"
RECONNECT_SECONDS = 1.0
log = structlog.get_logger()


class ConfigEvents:
    """Publishes this process's configuration changes and listens for everybody's."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._pending: set[asyncio.Task[None]] = set()

    def announce(self) -> None:
        """Publish a change (called right after a commit; never blocks the caller)."""
        task = asyncio.get_running_loop().create_task(self._publish())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self) -> None:
        try:
            await self._client.publish(CHANNEL, b"changed")
        except RedisError as exc:
            log.warning("announcing a configuration change failed", error=str(exc))

    async def listen(self, on_change: Callable[[], None]) -> None:
        """Call ``on_change`` for every announced change, reconnecting when Redis drops."""
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            on_change()
            except RedisError as exc:
                log.warning("configuration events lost; reconnecting", error=str(exc))
                # changes made while disconnected: forget everything
                on_change()
                await asyncio.sleep(RECONNECT_SECONDS)
