"""What the hot path keeps in memory between requests: keys, profiles, routes and quota rules.

Everything is dropped at once when the configuration epoch moves (see ``config_epoch``): at
once in the process that made the change, within ``EPOCH_POLL_SECONDS`` in every other one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from tokengate.catalog.schemas import Route
from tokengate.keys.schemas import KeyRecord
from tokengate.quotas.resolve import RuleSet
from tokengate.tenancy.schemas import MemberProfile

K = TypeVar("K")
V = TypeVar("V")
# an attacker sending random keys must not grow memory without bound
MAX_ENTRIES = 50_000


class Table(Generic[K, V]):
    """One kind of cached value, loaded on a miss."""

    def __init__(self) -> None:
        self._values: dict[K, V] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """Return the cached value, loading (and keeping) it on a miss."""
        try:
            return self._values[key]
        except KeyError:
            pass
        value = await load()
        if len(self._values) >= MAX_ENTRIES:
            self._values.clear()
        self._values[key] = value
        return value

    def clear(self) -> None:
        """Forget everything."""
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)


class HotCache:
    """The per-process cache of the gateway's lookups."""

    def __init__(self) -> None:
        self.keys: Table[str, KeyRecord | None] = Table()
        self.profiles: Table[int, MemberProfile | None] = Table()
        self.routes: Table[str, Route | None] = Table()
        self.rules: Table[tuple[int, int | None, int, int, str], RuleSet] = Table()

    def clear(self) -> None:
        """Drop every cached value (the configuration changed)."""
        for table in (self.keys, self.profiles, self.routes, self.rules):
            table.clear()
