"""The Redis ledger's round trips: commands packed in C and written at once on a connection of
the ledger's own.

redis-py's command path does more than the ledger needs on every call (a connection pool with
deprecation shims and event hooks, a retry policy object, observability hooks, a check for
HIMPORT, a pipeline object per pipeline, the protocol packed in Python). The gateway makes two
ledger calls per request, so the ledger keeps its own idle connections (made by the client's
pool, so configured like the client's), packs its commands with hiredis and reads their replies
itself. Every reply is read before a connection is used again; a call interrupted half-way (an
error, a cancellation) closes its connection instead, so a later call never reads a stale reply.

Every ledger script is idempotent per request id (a second reserve returns the live
reservation, a second settle reports ``already_settled``), so a call that failed on a broken
connection is sent once more on a fresh one.
"""

from __future__ import annotations

from collections.abc import Sequence

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tokengate.ledger.backends.redis_codec import Reply

Command = tuple[str | int, ...]
ATTEMPTS = 2
# idle connections kept for the next calls; more are opened while more calls are in flight
MAX_IDLE = 64


class Wire:
    """One process's line to Redis for the ledger's scripts."""

    def __init__(self, client: aioredis.Redis, *, max_idle: int = MAX_IDLE) -> None:
        self._client = client
        self._max_idle = max_idle
        self._idle: list[AbstractConnection] = []
        kwargs = client.connection_pool.connection_kwargs
        self._timeout = kwargs.get("socket_timeout") or kwargs.get("orig_socket_timeout") or None

    async def aclose(self) -> None:
        """Close the idle connections."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.disconnect()

    async def send(self, commands: Sequence[Command]) -> list[Reply | ResponseError]:
        """Send ``commands`` in one write and return their replies (an error reply as its error)."""
        # hiredis's stub types its argument as a one-item tuple; it takes any number of items
        packed = b"".join([hiredis.pack_command(command) for command in commands])  # type: ignore[arg-type]
        for attempt in range(ATTEMPTS):
            try:
                return await self._send_once(packed, len(commands))
            except (RedisConnectionError, RedisTimeoutError, OSError):
                if attempt + 1 == ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(self, packed: bytes, count: int) -> list[Reply | ResponseError]:
        connection = self._idle.pop() if self._idle else self._new_connection()
        complete = False
        try:
            await connection.send_packed_command(packed, False)
            replies: list[Reply | ResponseError] = []
            for _ in range(count):
                try:
                    replies.append(await connection.read_response(timeout=self._timeout))
                except ResponseError as error:
                    replies.append(error)
            complete = True
            return replies
        finally:
            if complete and len(self._idle) < self._max_idle:
                self._idle.append(connection)
            else:
                await connection.disconnect()

    def _new_connection(self) -> AbstractConnection:
        # Configured as the client's connections are, but not held by its pool, and with no
        # socket timeout of its own: redis-py would run every write in a task of its own under
        # ``wait_for``. Reads are given the client's timeout explicitly; a write of a few hundred
        # bytes lands in the socket's buffer at once.
        pool = self._client.connection_pool
        kwargs = {**pool.connection_kwargs, "socket_timeout": None}
        connection: AbstractConnection = pool.connection_class(**kwargs)
        return connection

    async def evalsha(
        self,
        script: AsyncScript,
        keys: Sequence[str],
        args: Sequence[str | int],
        *,
        before: Sequence[Command] = (),
        after: Sequence[Command] = (),
    ) -> Reply:
        """Run a script between other commands in one round trip, loading it if Redis lacks it."""
        call: Command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        while True:
            replies = await self.send([*before, call, *after])
            reply = replies[len(before)]
            if not isinstance(reply, NoScriptError):
                break
            await self._client.script_load(script.script)
        for other in replies:
            if isinstance(other, ResponseError):
                raise other
        if isinstance(reply, ResponseError):  # pragma: no cover - raised just above
            raise reply
        return reply
